// One error type for the whole project. Callers branch on `code`, never on message text.
// The CNI boundary maps codes to the spec's numeric codes with cniCodeOf().

export const ERROR_CODES = [
  // configuration and local state
  'CONFIG_INVALID',
  /** A mistake on the command line: the CLI prints one line and the usage, exit 2. */
  'USAGE',
  'CHECKPOINT_CORRUPT',
  'CHECKPOINT_VERSION',
  'CHECKPOINT_IO',
  // cloud
  'CLOUD_THROTTLED',
  'CLOUD_UNAVAILABLE',
  'CLOUD_TIMEOUT',
  'CLOUD_AUTH',
  'CLOUD_PERMISSION_DENIED',
  'CLOUD_NOT_FOUND',
  'CLOUD_LIMIT_EXCEEDED',
  'CLOUD_BAD_REQUEST',
  'CLOUD_CONFLICT',
  'SUBNET_FULL',
  'METADATA_UNREACHABLE',
  'UNKNOWN_INSTANCE_TYPE',
  // pool
  'POOL_EXHAUSTED',
  'POOL_NOT_READY',
  'POOL_AT_CAPACITY',
  'ADDRESS_CONFLICT',
  // datapath
  'NETNS_INVALID',
  'IFNAME_INVALID',
  'NETLINK',
  'NFTABLES',
  'DATAPATH_DRIFT',
  // CNI protocol
  'CNI_VERSION_UNSUPPORTED',
  'CNI_DECODE',
  'CNI_INVALID_ENV',
  'CNI_INVALID_CONFIG',
  'CNI_UNSUPPORTED_FIELD',
  'CNI_IO',
  'CNI_NOT_AVAILABLE',
  'CONTAINER_UNKNOWN',
  'AGENT_UNAVAILABLE',
  // kubernetes
  'K8S_UNAVAILABLE',
  'K8S_CONFLICT',
  'K8S_GONE',
  'K8S_NOT_FOUND',
  'K8S_FORBIDDEN',
  'K8S_INVALID',
  // anything else
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface VpcnetErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
  /** True when retrying the same operation later may succeed. */
  retryable?: boolean;
}

export class VpcnetError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, opts: VpcnetErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'VpcnetError';
    this.code = code;
    this.details = opts.details ?? {};
    this.retryable = opts.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, details: this.details };
  }
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CLOUD_THROTTLED',
  'CLOUD_UNAVAILABLE',
  'CLOUD_TIMEOUT',
  'METADATA_UNREACHABLE',
  'POOL_EXHAUSTED',
  'POOL_NOT_READY',
  'AGENT_UNAVAILABLE',
  'K8S_UNAVAILABLE',
]);

export function isVpcnetError(err: unknown, code?: ErrorCode): err is VpcnetError {
  return err instanceof VpcnetError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a VpcnetError, keeping an existing one as it is. */
export function toVpcnetError(err: unknown, fallback: ErrorCode = 'INTERNAL', message?: string): VpcnetError {
  if (err instanceof VpcnetError) return err;
  const text = message ?? (err instanceof Error ? err.message : String(err));
  return new VpcnetError(fallback, text, { cause: err });
}

/** CNI spec error codes (SPEC.md "Error codes"); 100+ are plugin-specific. */
export const CNI_CODES = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  containerUnknown: 3,
  invalidEnv: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  pluginNotAvailable: 50,
  pluginNotAvailableLimited: 51,
  internal: 999,
} as const;

export function cniCodeOf(code: ErrorCode): number {
  switch (code) {
    case 'CNI_VERSION_UNSUPPORTED':
      return CNI_CODES.incompatibleVersion;
    case 'CNI_UNSUPPORTED_FIELD':
      return CNI_CODES.unsupportedField;
    case 'CONTAINER_UNKNOWN':
      return CNI_CODES.containerUnknown;
    case 'CNI_INVALID_ENV':
    case 'NETNS_INVALID':
    case 'IFNAME_INVALID':
      return CNI_CODES.invalidEnv;
    case 'CNI_DECODE':
      return CNI_CODES.decodeFailure;
    case 'CNI_INVALID_CONFIG':
    case 'CONFIG_INVALID':
      return CNI_CODES.invalidConfig;
    case 'CHECKPOINT_IO':
    case 'CNI_IO':
      return CNI_CODES.ioFailure;
    case 'CNI_NOT_AVAILABLE':
      return CNI_CODES.pluginNotAvailable;
    case 'POOL_EXHAUSTED':
    case 'POOL_NOT_READY':
    case 'AGENT_UNAVAILABLE':
    case 'CLOUD_THROTTLED':
    case 'CLOUD_UNAVAILABLE':
    case 'CLOUD_TIMEOUT':
    case 'SUBNET_FULL':
    case 'METADATA_UNREACHABLE':
      return CNI_CODES.tryAgainLater;
    case 'POOL_AT_CAPACITY':
      return 101;
    case 'NETLINK':
    case 'NFTABLES':
    case 'DATAPATH_DRIFT':
      return 102;
    case 'CLOUD_AUTH':
    case 'CLOUD_PERMISSION_DENIED':
      return 103;
    default:
      return CNI_CODES.internal;
  }
}

// The one place where AWS error codes become VpcnetError codes. Callers branch on the
// VpcnetError code; the AWS code and request id stay in `details` for operators.
import { VpcnetError, type ErrorCode } from '../../../src/errors.ts';

/** AWS codes for "the subnet cannot satisfy the request". */
const SUBNET_FULL_CODES = new Set(['InsufficientFreeAddressesInSubnet', 'InsufficientCidrBlocks']);
const LIMIT_CODES = new Set([
  'PrivateIpAddressLimitExceeded',
  'AttachmentLimitExceeded',
  'NetworkInterfaceLimitExceeded',
  'AddressLimitExceeded',
]);
// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html and the SDKs' throttling lists
const THROTTLE_CODES = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestThrottledException',
  'EC2ThrottledException',
  'BandwidthLimitExceeded',
  'SlowDown',
  'PriorRequestNotComplete',
]);
/** The account may not use the action (not an IAM statement, but the same remedy: someone must act). */
const DENIED_CODES = new Set(['UnauthorizedOperation', 'AccessDenied', 'AccessDeniedException', 'OptInRequired', 'Blocked', 'PendingVerification']);
const AUTH_CODES = new Set([
  'AuthFailure',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'ExpiredToken',
  'RequestExpired',
  'CredentialsProviderError',
]);
const UNAVAILABLE_CODES = new Set(['InternalError', 'InternalFailure', 'ServiceUnavailable', 'ServiceUnavailableException', 'Unavailable']);
const TIMEOUT_CODES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const NETWORK_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const TIMEOUT_ERRNOS = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);

interface AwsErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  RequestID?: unknown;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

export interface AwsErrorFacts {
  /** The AWS error code (e.g. RequestLimitExceeded) or a transport code (ECONNREFUSED). */
  awsCode: string;
  httpStatus?: number;
  requestId?: string;
  message: string;
}

/** Extracts the facts of anything the SDK throws. Never includes credentials or signatures. */
export function awsErrorFacts(err: unknown): AwsErrorFacts {
  const e = (typeof err === 'object' && err !== null ? err : {}) as AwsErrorShape;
  const errno = typeof e.code === 'string' ? e.code : undefined;
  const name = typeof e.Code === 'string' ? e.Code : typeof e.name === 'string' ? e.name : undefined;
  // Transport errors carry an errno-style `code`; SDK service errors carry `name`.
  const awsCode = errno && (NETWORK_ERRNOS.has(errno) || TIMEOUT_ERRNOS.has(errno)) ? errno : (name ?? errno ?? 'Unknown');
  const facts: AwsErrorFacts = {
    awsCode,
    message: scrub(typeof e.message === 'string' ? e.message : String(err)),
  };
  if (e.$metadata?.httpStatusCode !== undefined) facts.httpStatus = e.$metadata.httpStatusCode;
  const requestId = e.$metadata?.requestId ?? (typeof e.RequestID === 'string' ? e.RequestID : undefined);
  if (requestId) facts.requestId = requestId;
  return facts;
}

/**
 * EC2 reuses InvalidParameterValue for "no free addresses or prefixes" (CreateNetworkInterface,
 * AssignPrivateIpAddresses): the only way to tell it apart is the message AWS sends. This is
 * the one place where an AWS message is read.
 */
function isSubnetFullMessage(message: string): boolean {
  return /sufficient free ipv4 addresses or prefixes|not have enough free addresses/i.test(message);
}

export function vpcnetCodeForAws(facts: AwsErrorFacts): ErrorCode {
  const c = facts.awsCode;
  if (THROTTLE_CODES.has(c)) return 'CLOUD_THROTTLED';
  if (SUBNET_FULL_CODES.has(c)) return 'SUBNET_FULL';
  if (c === 'InvalidParameterValue' && isSubnetFullMessage(facts.message)) return 'SUBNET_FULL';
  if (LIMIT_CODES.has(c)) return 'CLOUD_LIMIT_EXCEEDED';
  if (DENIED_CODES.has(c)) return 'CLOUD_PERMISSION_DENIED';
  if (AUTH_CODES.has(c)) return 'CLOUD_AUTH';
  if (c === 'InvalidInstanceType') return 'UNKNOWN_INSTANCE_TYPE';
  if (c.endsWith('.NotFound')) return 'CLOUD_NOT_FOUND';
  // An id EC2 calls malformed names nothing that exists: for a delete or a lookup it is gone.
  if (/^Invalid\w*(ID|Id)\.Malformed$/.test(c)) return 'CLOUD_NOT_FOUND';
  if (c === 'InvalidNetworkInterface.InUse' || c === 'IncorrectState' || c === 'IncorrectInstanceState' || c.endsWith('.InUse')) {
    return 'CLOUD_CONFLICT';
  }
  if (UNAVAILABLE_CODES.has(c) || NETWORK_ERRNOS.has(c)) return 'CLOUD_UNAVAILABLE';
  if (TIMEOUT_CODES.has(c) || TIMEOUT_ERRNOS.has(c) || c === 'AbortError') return 'CLOUD_TIMEOUT';
  if (facts.httpStatus !== undefined && facts.httpStatus >= 500) return 'CLOUD_UNAVAILABLE';
  if (facts.httpStatus === 401) return 'CLOUD_AUTH';
  if (facts.httpStatus === 403) return 'CLOUD_PERMISSION_DENIED';
  if (facts.httpStatus !== undefined && facts.httpStatus >= 400) return 'CLOUD_BAD_REQUEST';
  return 'CLOUD_UNAVAILABLE';
}

/** Maps anything an EC2 call threw into a VpcnetError that names the action. */
export function mapAwsError(err: unknown, action: string): VpcnetError {
  if (err instanceof VpcnetError) return err;
  const facts = awsErrorFacts(err);
  const code = vpcnetCodeForAws(facts);
  const details: Record<string, unknown> = { action, awsCode: facts.awsCode };
  if (facts.requestId) details.requestId = facts.requestId;
  if (facts.httpStatus !== undefined) details.httpStatus = facts.httpStatus;
  // Prefix requests fail this way when the subnet is fragmented: the pool falls back to ip blocks.
  if (code === 'SUBNET_FULL') details.fragmented = facts.awsCode === 'InsufficientCidrBlocks';
  const hint = HINTS[code];
  const text = `EC2 ${action} failed: ${facts.awsCode}: ${facts.message}${hint ? ` (${hint})` : ''}`;
  return new VpcnetError(code, text, { cause: err, details });
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  CLOUD_AUTH: 'check the node credentials: instance profile, IRSA or the configured credentials provider',
  CLOUD_PERMISSION_DENIED: 'the IAM policy lacks this action; see docs/providers/aws.md',
  SUBNET_FULL: 'the subnet has no free addresses or /28 prefixes left',
  CLOUD_LIMIT_EXCEEDED: 'the instance type limit on NICs or addresses per NIC is reached',
};

/** Strips anything that looks like a credential or a signature from a message. */
export function scrub(text: string): string {
  return text
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g, '<access-key>')
    .replace(/(Signature|Credential|X-Amz-Security-Token|X-Amz-Signature)=[^\s&,]+/gi, '$1=<redacted>')
    .replace(/(aws_secret_access_key|secretAccessKey|sessionToken)["'=: ]+[^\s"',]+/gi, '$1=<redacted>');
}

// Azure IMDS client: `Metadata: true`, an explicit api-version, no proxy; every value is a
// string and the NICs come in no set order (callers match them by MAC).
import { VpcnetError } from '../../../src/errors.ts';

export const IMDS_API_VERSION = '2021-02-01';
export const IMDS_DEFAULT_ENDPOINT = 'http://169.254.169.254';

export interface ImdsCompute {
  subscriptionId: string;
  resourceGroupName: string;
  name: string;
  resourceId: string;
  vmId: string;
  vmSize: string;
  location: string;
  zone: string;
  /** Empty for a standalone VM. */
  vmScaleSetName: string;
}

export interface ImdsNic {
  /** Lower-case, colon-separated (normalised from IMDS's 000D3AF806EC). */
  mac: string;
  addresses: string[];
  subnet?: { address: string; prefix: number };
}

export interface ImdsInstance {
  compute: ImdsCompute;
  nics: ImdsNic[];
}

/** 00-0D-3A-1B-C7-21 (ARM), 000D3A1BC721 (IMDS) or 00:0d:3a:... -> 00:0d:3a:1b:c7:21. */
export function normalizeMac(mac: string): string {
  const hex = mac.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  if (hex.length !== 12) throw new VpcnetError('CLOUD_BAD_REQUEST', `not a MAC address: ${mac}`);
  return hex.match(/../g)?.join(':') ?? hex;
}

const str = (o: Record<string, unknown>, k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');

export class AzureImdsClient {
  private readonly base: string;
  private readonly timeoutMs: number;

  constructor(opts: { endpoint?: string; timeoutMs?: number } = {}) {
    this.base = (opts.endpoint ?? IMDS_DEFAULT_ENDPOINT).replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 2000;
  }

  async instance(): Promise<ImdsInstance> {
    const doc = (await this.get('/metadata/instance')) as { compute?: Record<string, unknown>; network?: { interface?: unknown[] } };
    const c = doc.compute ?? {};
    const compute: ImdsCompute = {
      subscriptionId: str(c, 'subscriptionId'),
      resourceGroupName: str(c, 'resourceGroupName'),
      name: str(c, 'name'),
      resourceId: str(c, 'resourceId'),
      vmId: str(c, 'vmId'),
      vmSize: str(c, 'vmSize'),
      location: str(c, 'location'),
      zone: str(c, 'zone'),
      vmScaleSetName: str(c, 'vmScaleSetName'),
    };
    for (const k of ['subscriptionId', 'resourceGroupName', 'name', 'vmSize', 'location'] as const) {
      if (!compute[k]) throw new VpcnetError('METADATA_UNREACHABLE', `Azure IMDS answered without compute.${k}`);
    }
    const nics = (doc.network?.interface ?? []).map((raw) => {
      const n = raw as { macAddress?: unknown; ipv4?: { ipAddress?: Array<Record<string, unknown>>; subnet?: Array<Record<string, unknown>> } };
      const subnet = n.ipv4?.subnet?.[0];
      const prefix = subnet ? Number(str(subnet, 'prefix')) : NaN;
      return {
        mac: normalizeMac(typeof n.macAddress === 'string' ? n.macAddress : ''),
        addresses: (n.ipv4?.ipAddress ?? []).map((a) => str(a, 'privateIpAddress')).filter(Boolean),
        ...(subnet && Number.isInteger(prefix) ? { subnet: { address: str(subnet, 'address'), prefix } } : {}),
      };
    });
    return { compute, nics };
  }

  private async get(path: string): Promise<unknown> {
    const url = `${this.base}${path}?api-version=${IMDS_API_VERSION}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { Metadata: 'true' }, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new VpcnetError('METADATA_UNREACHABLE', `Azure IMDS unreachable at ${this.base}`, { cause: err });
    }
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 200);
      try {
        const j = JSON.parse(text) as { error?: unknown };
        if (typeof j.error === 'string') message = j.error;
      } catch {
        // not JSON: keep the text
      }
      throw new VpcnetError(res.status >= 500 || res.status === 429 || res.status === 410 ? 'METADATA_UNREACHABLE' : 'CLOUD_BAD_REQUEST', `Azure IMDS ${path}: ${res.status} ${message}`, {
        details: { status: res.status },
      });
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new VpcnetError('CLOUD_BAD_REQUEST', `Azure IMDS ${path}: not JSON`, { cause: err });
    }
  }
}

// The GCE metadata server as the agent reads it: one recursive JSON read of instance/ and
// project/ at start, tokens for the Compute API. The Metadata-Flavor header is sent on every
// request and required on every answer (anything else is not a GCE metadata server).
import { VpcnetError } from '../../../src/errors.ts';

export const DEFAULT_METADATA_ENDPOINT = 'http://169.254.169.254';

export interface MetadataNic {
  ip: string;
  mac: string;
  /** projects/<number>/networks/<name> */
  network: string;
  subnetmask: string;
  gateway: string;
  mtu: number;
  ipAliases: string[];
}

export interface InstanceMetadata {
  /** A decimal string: ids exceed float precision. */
  id: string;
  name: string;
  /** Zone name (us-central1-a). */
  zone: string;
  /** Machine type name (e2-standard-4). */
  machineType: string;
  projectId: string;
  numericProjectId: string;
  nics: MetadataNic[];
}

export interface AccessToken {
  token: string;
  expiresAt: number;
}

export interface MetadataClientOptions {
  endpoint?: string;
  timeoutMs?: number;
  now?: () => number;
}

export class MetadataClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  private knownProject: string | undefined;
  private readonly now: () => number;

  constructor(opts: MetadataClientOptions = {}) {
    this.base = `${(opts.endpoint ?? DEFAULT_METADATA_ENDPOINT).replace(/\/+$/, '')}/computeMetadata/v1`;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.now = opts.now ?? Date.now;
  }

  async instance(): Promise<InstanceMetadata> {
    // two independent reads: one round trip, not two
    const [instText, projectText] = await Promise.all([this.get('/instance/?recursive=true&alt=json'), this.get('/project/?recursive=true&alt=json')]);
    const inst = asObject(parseWithIds(instText), 'instance/');
    const project = asObject(parseWithIds(projectText), 'project/');
    const nics = Array.isArray(inst.networkInterfaces) ? inst.networkInterfaces : [];
    this.knownProject ??= str(project.projectId, 'project/project-id');
    return {
      id: str(inst.id, 'instance/id'),
      name: str(inst.name, 'instance/name'),
      zone: lastSegment(str(inst.zone, 'instance/zone')),
      machineType: lastSegment(str(inst.machineType, 'instance/machine-type')),
      projectId: str(project.projectId, 'project/project-id'),
      numericProjectId: str(project.numericProjectId, 'project/numeric-project-id'),
      nics: nics.map((raw, i) => {
        const n = asObject(raw, `instance/network-interfaces/${i}/`);
        return {
          ip: str(n.ip, `network-interfaces/${i}/ip`),
          mac: str(n.mac, `network-interfaces/${i}/mac`),
          network: str(n.network, `network-interfaces/${i}/network`),
          subnetmask: str(n.subnetmask, `network-interfaces/${i}/subnetmask`),
          gateway: str(n.gateway, `network-interfaces/${i}/gateway`),
          mtu: typeof n.mtu === 'number' ? n.mtu : Number(n.mtu ?? 1460),
          ipAliases: Array.isArray(n.ipAliases) ? n.ipAliases.map(String) : [],
        };
      }),
    };
  }

  /** The instance's project id: it never changes, so one read (this one or instance()'s) serves for good. */
  async projectId(): Promise<string> {
    this.knownProject ??= (await this.instance()).projectId;
    return this.knownProject;
  }

  async token(): Promise<AccessToken> {
    const body = asObject(JSON.parse(await this.get('/instance/service-accounts/default/token')) as unknown, 'token');
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : 0;
    return { token: str(body.access_token, 'token/access_token'), expiresAt: this.now() + expiresIn * 1000 };
  }

  private async get(path: string): Promise<string> {
    const url = `${this.base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' }, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' });
    } catch (cause) {
      throw new VpcnetError('METADATA_UNREACHABLE', `GCE metadata server unreachable at ${this.base}`, { cause, details: { url } });
    }
    const text = await res.text();
    if (res.headers.get('metadata-flavor') !== 'Google') {
      throw new VpcnetError('METADATA_UNREACHABLE', `${this.base} answered without the header Metadata-Flavor: Google: not a GCE metadata server`, {
        details: { url, status: res.status },
        retryable: false,
      });
    }
    if (!res.ok) throw new VpcnetError('METADATA_UNREACHABLE', `GCE metadata server answered ${res.status} for ${path}`, { details: { url, status: res.status } });
    return text;
  }
}

/** JSON.parse that keeps big integer ids exact (the server writes them as bare numbers). */
export function parseWithIds(text: string): unknown {
  return JSON.parse(text.replace(/"(id|numericProjectId)":\s*(\d+)/g, '"$1":"$2"')) as unknown;
}

function asObject(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new VpcnetError('METADATA_UNREACHABLE', `GCE metadata ${what} is not an object`);
  return v as Record<string, unknown>;
}

function str(v: unknown, what: string): string {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number') return String(v);
  throw new VpcnetError('METADATA_UNREACHABLE', `GCE metadata ${what} missing`);
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

// Azure IMDS per VM (plain HTTP, as on 169.254.169.254): /metadata/instance[/compute|/network...],
// /metadata/identity/oauth2/token. Like the real one it wants `Metadata: true`, an api-version it
// knows, no X-Forwarded-For, GET only; every JSON value is a string; NICs in no set order.
import type { IncomingHttpHeaders } from 'node:http';
import type { AzureState, Vm } from './state.ts';
import { renderImdsCompute, renderImdsNetwork } from './render.ts';

export const IMDS_API_VERSIONS = [
  '2017-03-01', '2017-04-02', '2017-08-01', '2017-10-01', '2017-12-01', '2018-02-01', '2018-04-02', '2018-10-01',
  '2019-02-01', '2019-03-11', '2019-04-30', '2019-06-01', '2019-06-04', '2019-08-01', '2019-08-15', '2019-11-01',
  '2020-06-01', '2020-07-15', '2020-09-01', '2020-10-01', '2020-12-01', '2021-01-01', '2021-02-01', '2021-03-01',
  '2021-05-01', '2021-10-01', '2021-11-01', '2021-11-15', '2021-12-13', '2023-07-01', '2023-11-15', '2024-03-15',
  '2024-07-17', '2025-04-07',
];
const NEWEST = ['2025-04-07', '2024-07-17', '2024-03-15'];

export interface ImdsReply {
  status: number;
  body: string;
  contentType: string;
}

export interface TokenIssuer {
  issue(principal: { principalId: string; vmId: string }, resource: string): { token: string; expiresIn: number };
}

const json = (status: number, body: unknown): ImdsReply => ({ status, body: JSON.stringify(body), contentType: 'application/json; charset=utf-8' });

export class AzureImds {
  private readonly state: AzureState;
  private readonly issuer: TokenIssuer;
  private readonly random: () => number;
  /** Answers for this VM name fail with this status (tests: metadata unreachable / 500). */
  readonly failing = new Map<string, number>();

  constructor(state: AzureState, issuer: TokenIssuer, random: () => number) {
    this.state = state;
    this.issuer = issuer;
    this.random = random;
  }

  handle(vmName: string, method: string, url: URL, headers: IncomingHttpHeaders): ImdsReply {
    if (headers['x-forwarded-for'] !== undefined) return json(400, { error: 'Bad request. X-Forwarded-For header is not allowed.' });
    if (method !== 'GET') return json(405, { error: 'Method not allowed' });
    if (String(headers.metadata ?? '').toLowerCase() !== 'true') return json(400, { error: 'Bad request. Required metadata header not specified' });
    const forced = this.failing.get(vmName);
    if (forced) return json(forced, { error: 'Internal error (injected)' });
    const vm = this.state.vmByName(vmName);
    if (!vm) return json(404, { error: 'Not found' });
    const path = url.pathname.replace(/\/+$/, '');
    const version = url.searchParams.get('api-version');
    if (path === '/metadata/identity/oauth2/token') return this.token(vm, url, version);
    if (!version || !IMDS_API_VERSIONS.includes(version)) {
      return json(400, { error: 'Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds', 'newest-versions': NEWEST });
    }
    if (!path.startsWith('/metadata/instance')) return json(404, { error: 'Not found' });
    const doc = {
      compute: renderImdsCompute(this.state, vm),
      network: renderImdsNetwork(this.state, vm, (n) => this.order(n)),
    };
    const rest = path.slice('/metadata/instance'.length).split('/').filter(Boolean);
    let node: unknown = doc;
    for (const part of rest) {
      if (Array.isArray(node)) node = node[Number(part)];
      else if (node && typeof node === 'object') node = (node as Record<string, unknown>)[part];
      else node = undefined;
      if (node === undefined) return json(404, { error: 'Not found' });
    }
    if (typeof node === 'string') {
      if (url.searchParams.get('format') !== 'text') return json(400, { error: 'Bad request. Leaf nodes need format=text.' });
      return { status: 200, body: node, contentType: 'text/plain; charset=utf-8' };
    }
    return json(200, node);
  }

  private token(vm: Vm, url: URL, version: string | null): ImdsReply {
    if (!version || !['2018-02-01', '2019-08-01', '2019-11-01', '2025-04-07'].includes(version)) {
      return json(400, { error: 'invalid_request', error_description: 'Required query variable api-version is missing or invalid' });
    }
    const resource = url.searchParams.get('resource');
    if (!resource) return json(400, { error: 'invalid_request', error_description: 'Required query variable resource is missing' });
    const { token, expiresIn } = this.issuer.issue({ principalId: vm.principalId, vmId: vm.vmId }, resource);
    const now = Math.floor(Date.now() / 1000);
    return json(200, {
      access_token: token,
      client_id: vm.principalId,
      expires_in: String(expiresIn),
      expires_on: String(now + expiresIn),
      ext_expires_in: String(expiresIn),
      not_before: String(now),
      resource,
      token_type: 'Bearer',
    });
  }

  /** NICs in no guaranteed order: a seeded shuffle. */
  private order(n: number): number[] {
    const idx = [...Array(n).keys()];
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
    }
    return idx;
  }
}

// The Compute v1 methods the emulator models, by verb and path (below /compute/v1), and how a
// call it does not model is answered: a path shaped like a Compute resource gets 501
// notImplemented, anything else GCE's 404. Never an empty success.
import { GceApiError } from './gce-error.ts';

const P = '\\/projects\\/([^/]+)';
const SEG = '([^/]+)';

const TABLE: [string, string, string[], string][] = [
  ['GET', `${P}/zones/${SEG}/instances/${SEG}`, ['project', 'zone', 'instance'], 'instances.get'],
  ['GET', `${P}/zones/${SEG}/instances`, ['project', 'zone'], 'instances.list'],
  ['GET', `${P}/aggregated/instances`, ['project'], 'instances.aggregatedList'],
  ['PATCH', `${P}/zones/${SEG}/instances/${SEG}/updateNetworkInterface`, ['project', 'zone', 'instance'], 'instances.updateNetworkInterface'],
  ['GET', `${P}/zones/${SEG}/operations/${SEG}`, ['project', 'zone', 'operation'], 'zoneOperations.get'],
  ['GET', `${P}/zones/${SEG}/operations`, ['project', 'zone'], 'zoneOperations.list'],
  ['POST', `${P}/zones/${SEG}/operations/${SEG}/wait`, ['project', 'zone', 'operation'], 'zoneOperations.wait'],
  ['GET', `${P}/regions/${SEG}/operations/${SEG}`, ['project', 'region', 'operation'], 'regionOperations.get'],
  ['GET', `${P}/regions/${SEG}/operations`, ['project', 'region'], 'regionOperations.list'],
  ['POST', `${P}/regions/${SEG}/operations/${SEG}/wait`, ['project', 'region', 'operation'], 'regionOperations.wait'],
  ['GET', `${P}/global/operations/${SEG}`, ['project', 'operation'], 'globalOperations.get'],
  ['GET', `${P}/global/operations`, ['project'], 'globalOperations.list'],
  ['POST', `${P}/global/operations/${SEG}/wait`, ['project', 'operation'], 'globalOperations.wait'],
  ['GET', `${P}/aggregated/operations`, ['project'], 'globalOperations.aggregatedList'],
  ['POST', `${P}/global/routes`, ['project'], 'routes.insert'],
  ['GET', `${P}/global/routes`, ['project'], 'routes.list'],
  ['GET', `${P}/global/routes/${SEG}`, ['project', 'route'], 'routes.get'],
  ['DELETE', `${P}/global/routes/${SEG}`, ['project', 'route'], 'routes.delete'],
  ['GET', `${P}/regions/${SEG}/subnetworks/${SEG}`, ['project', 'region', 'subnetwork'], 'subnetworks.get'],
  ['GET', `${P}/regions/${SEG}/subnetworks`, ['project', 'region'], 'subnetworks.list'],
  ['GET', `${P}/aggregated/subnetworks`, ['project'], 'subnetworks.aggregatedList'],
  ['GET', `${P}/global/networks/${SEG}`, ['project', 'network'], 'networks.get'],
  ['GET', `${P}/global/networks`, ['project'], 'networks.list'],
  ['GET', `${P}/zones/${SEG}`, ['project', 'zone'], 'zones.get'],
  ['GET', `${P}/zones`, ['project'], 'zones.list'],
  ['GET', `${P}/regions/${SEG}`, ['project', 'region'], 'regions.get'],
  ['GET', `${P}/regions`, ['project'], 'regions.list'],
];

const METHODS = TABLE.map(([verb, re, names, method]) => ({ verb, re: new RegExp(`^${re}$`), names, method }));

/** A Compute resource path: projects/P[/(global|aggregated)/C…|/(zones|regions)/X[/C…]]. */
const COMPUTE_SHAPE = /^\/projects\/[^/]+(?:\/(?:global|aggregated)\/[a-zA-Z]+(?:\/.*)?|\/(?:zones|regions)\/[^/]+(?:\/.*)?)?\/?$/;

export function resolveMethod(verb: string, path: string): { method: string; params: Record<string, string> } {
  for (const m of METHODS) {
    if (m.verb !== verb) continue;
    const hit = m.re.exec(path);
    if (!hit) continue;
    const params: Record<string, string> = {};
    m.names.forEach((n, i) => (params[n] = decodeURIComponent(hit[i + 1] as string)));
    return { method: m.method, params };
  }
  if (COMPUTE_SHAPE.test(path)) {
    throw new GceApiError(501, 'notImplemented', `${verb} /compute/v1${path} is a Compute Engine call this emulator does not model.`);
  }
  throw new GceApiError(404, 'notFound', `The requested URL ${path} was not found on this server.`);
}

// Admin HTTP API (/_emulator/...): the state the lab routes by, scenarios, instances, faults,
// latency, quotas and call statistics.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isVpcnetError } from '../../../src/errors.ts';
import type { GcpEmulator } from './emulator.ts';
import { readBody } from '../../kit/emulator/index.ts';
import { parseFaultRule } from './faults.ts';
import { GceApiError } from './gce-error.ts';
import type { QuotaGroup } from './quota.ts';

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** What the simulated VPC routes by: each NIC's addresses and alias ranges, each route. */
export function stateSnapshot(emu: GcpEmulator): Record<string, unknown> {
  const s = emu.state;
  s.settle();
  return {
    version: s.version,
    project: s.project,
    projectNumber: s.projectNumber,
    subnets: [...s.subnets.values()].map((x) => ({
      name: x.name,
      region: x.region,
      network: x.network,
      ipCidrRange: x.ipCidrRange,
      gatewayAddress: x.gatewayAddress,
      primary: x.primary.usage(),
      secondaryIpRanges: x.secondary.map((r) => ({ rangeName: r.rangeName, ipCidrRange: r.ipCidrRange, ...r.space.usage() })),
    })),
    instances: [...s.instances.values()].map((i) => ({
      id: i.id,
      name: i.name,
      zone: i.zone,
      machineType: i.machineType,
      canIpForward: i.canIpForward,
      nics: i.nics.map((n) => ({ name: n.name, network: n.network, subnet: n.subnet.name, networkIP: n.networkIP, mac: n.mac, mtu: n.mtu, aliasIpRanges: n.aliasIpRanges })),
    })),
    routes: [...s.routes.values()],
    pendingOperations: [...s.operations.values()].filter((o) => o.status !== 'DONE').length,
  };
}

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function handleAdmin(emu: GcpEmulator, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const route = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '')}`;
  try {
    const inst = /^(DELETE|PATCH) \/_emulator\/instances\/([^/]+)\/([^/]+)$/.exec(route);
    if (inst) {
      const [, verb, zone, name] = inst as unknown as [string, string, string, string];
      if (verb === 'DELETE') {
        emu.state.deleteInstance(zone, name);
        return send(res, 200, { deleted: `${zone}/${name}` });
      }
      const body = await jsonBody(req);
      if (typeof body.canIpForward === 'boolean') emu.state.setCanIpForward(zone, name, body.canIpForward);
      return send(res, 200, stateSnapshot(emu));
    }
    switch (route) {
      case 'GET /_emulator/state':
        return send(res, 200, stateSnapshot(emu));
      case 'GET /_emulator/stats':
        return send(res, 200, emu.stats());
      case 'POST /_emulator/scenario':
        return send(res, 200, emu.applyScenario(await jsonBody(req)));
      case 'POST /_emulator/instances': {
        const b = await jsonBody(req);
        const created = emu.state.createInstance(b as Parameters<typeof emu.state.createInstance>[0]);
        return send(res, 200, { id: created.id, name: created.name, zone: created.zone });
      }
      case 'GET /_emulator/faults':
        return send(res, 200, emu.faults.list());
      case 'POST /_emulator/faults':
        return send(res, 200, { id: emu.faults.add(parseFaultRule(await jsonBody(req))) });
      case 'DELETE /_emulator/faults':
        emu.faults.clear();
        return send(res, 200, {});
      case 'POST /_emulator/latency': {
        const b = await jsonBody(req);
        emu.faults.setLatency(String(b.method ?? '*'), Number(b.ms ?? 0));
        return send(res, 200, {});
      }
      case 'POST /_emulator/quotas': {
        const b = await jsonBody(req);
        for (const [k, v] of Object.entries(b)) if (typeof v === 'number') emu.quotas.setLimit(k as QuotaGroup, v);
        return send(res, 200, emu.quotas.snapshot());
      }
      default:
        return send(res, 404, { error: `unknown admin route ${route}` });
    }
  } catch (err) {
    if (err instanceof GceApiError) return send(res, err.status, { error: err.message });
    if (isVpcnetError(err)) return send(res, 400, { error: err.message, details: err.details });
    if (err instanceof SyntaxError) return send(res, 400, { error: 'invalid JSON' });
    throw err;
  }
}

// Admin API (/_emulator/...; no ARM auth, for tests and the lab): state, faults, latency,
// permissions per principal, failed provisioning, new VMs, subnet exhaustion.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseFaultRule } from '../../kit/emulator/index.ts';
import { isVpcnetError } from '../../../src/errors.ts';
import { ArmError } from './arm-error.ts';
import type { AzureEmulator } from './emulator.ts';
import { AzureState, configAddressText, formatCidr } from './state.ts';

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Everything the lab fabric and the tests read: subnets with free space, VMs, NICs and configurations. */
export function stateSnapshot(emu: AzureEmulator): Record<string, unknown> {
  const s = emu.state;
  return {
    subscriptionId: s.subscriptionId,
    subnets: [...s.subnets.values()].map((x) => ({ id: x.id, cidr: formatCidr(x.cidr), freeAddresses: x.space.freeCount, freePrefixes: x.space.freeBlockCount(28) })),
    vms: [...s.vms.values()].map((v) => ({ name: v.name, id: v.id, size: v.size, scaleSet: v.vmss?.name ?? null, principalId: v.principalId, nics: v.nicIds })),
    nics: [...s.nics.values()].map((n) => ({
      id: n.id,
      mac: n.mac,
      vm: n.vmId ?? null,
      provisioningState: n.state,
      ipConfigurations: n.ipConfigs.map((c) => ({ name: c.name, address: configAddressText(c), primary: c.primary, provisioningState: c.state })),
    })),
    operations: { inProgress: [...s.operations.values()].filter((o) => o.status === 'InProgress').length },
  };
}

export async function handleAdmin(emu: AzureEmulator, req: IncomingMessage, res: ServerResponse, url: URL, text: string): Promise<void> {
  const path = url.pathname.slice('/_emulator'.length);
  const method = req.method ?? 'GET';
  try {
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (path === '/state' && method === 'GET') return send(res, 200, stateSnapshot(emu));
    if (path === '/stats' && method === 'GET') return send(res, 200, emu.stats());
    if (path === '/faults' && method === 'POST') return send(res, 200, { id: emu.faults.add(parseFaultRule(body)) });
    if (path === '/faults' && method === 'DELETE') {
      emu.faults.clear();
      return send(res, 200, {});
    }
    if (path === '/latency' && method === 'POST') {
      emu.faults.setLatency(String(body.operation ?? '*'), Number(body.ms ?? 0));
      return send(res, 200, {});
    }
    if (path === '/permissions' && method === 'POST') {
      const actions = body.actions;
      emu.setPermissions(String(body.principalId ?? ''), Array.isArray(actions) ? actions.map(String) : undefined);
      return send(res, 200, {});
    }
    if (path === '/fail-provisioning' && method === 'POST') {
      const key = AzureState.nicKey(String(body.nicId ?? ''));
      emu.state.failNextProvisioning.set(key, Number(body.count ?? 1));
      return send(res, 200, {});
    }
    if (path === '/exhaust-subnet' && method === 'POST') {
      const key = emu.state.subnetKeyOfId(String(body.subnetId ?? ''));
      return send(res, 200, { taken: key ? emu.state.exhaustSubnet(key) : 0 });
    }
    if (path === '/scenario' && method === 'POST') return send(res, 200, emu.applyScenario(body));
    if (path === '/addresses' && method === 'GET') {
      // address -> NIC, for a fabric that routes by the emulator's view
      const out: Array<{ address: string; nicId: string; mac: string; ready: boolean }> = [];
      for (const n of emu.state.nics.values()) for (const c of n.ipConfigs) out.push({ address: configAddressText(c), nicId: n.id, mac: n.mac, ready: c.state === 'Succeeded' });
      return send(res, 200, out);
    }
    send(res, 404, { error: { code: 'NotFound', message: `no admin route ${method} ${path}` } });
  } catch (err) {
    if (err instanceof ArmError) return send(res, err.status, err.body());
    if (err instanceof SyntaxError || isVpcnetError(err)) return send(res, 400, { error: { code: 'BadRequest', message: (err as Error).message } });
    throw err;
  }
}

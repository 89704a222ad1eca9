// Admin HTTP API (/_emulator/...): set up scenarios, create and terminate instances, read the
// state the simulated VPC routes by; faults, latency, throttling, metadata lag, stats and the
// change stream are the kit's shared admin routes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isVpcnetError } from '../../../src/errors.ts';
import { serveCommonAdmin, type AdminTarget } from '../../kit/emulator/admin.ts';
import { readJson as jsonBody, sendJson as send } from '../../kit/emulator/http-server.ts';
import { ec2ErrorOf } from './ec2-error.ts';
import type { AwsEmulator } from './emulator.ts';
import type { CreateInstanceInput } from './state.ts';

/** Full state: VPCs, subnets with free space, instances and every ENI. */
export function stateSnapshot(emu: AwsEmulator): Record<string, unknown> {
  const s = emu.state;
  const subnets = s.describeSubnets([], []).map((x) => ({
    id: x.id,
    vpcId: x.vpcId,
    cidr: x.cidr,
    az: x.az,
    tags: Object.fromEntries(x.tags),
    freeAddresses: x.space.freeCount,
    freePrefixes: x.space.freePrefixCount(),
  }));
  return {
    version: s.version,
    region: s.region,
    vpcs: s.listVpcs(),
    subnets,
    instances: s.listInstanceIds().map((id) => s.instanceView(id)),
    enis: s.listEnis(),
  };
}

function adminTarget(emu: AwsEmulator): AdminTarget {
  return {
    faults: emu.faults,
    throttling: emu.throttler,
    setMetadataLag: (ms) => emu.imds.setLag(ms),
    stats: () => emu.stats(),
    onChange: (listener) => emu.onChange(listener),
    version: () => emu.state.version,
  };
}

export async function handleAdmin(emu: AwsEmulator, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const route = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '')}`;
  try {
    const instance = /^DELETE \/_emulator\/instances\/([^/]+)$/.exec(route);
    if (instance) {
      emu.state.terminateInstance(instance[1] as string);
      return send(res, 200, { terminated: instance[1] });
    }
    switch (route) {
      case 'GET /_emulator/state':
        return send(res, 200, stateSnapshot(emu));
      case 'GET /_emulator/enis':
        return send(res, 200, emu.listEnis());
      case 'POST /_emulator/scenario':
        return send(res, 200, emu.applyScenario(await jsonBody(req)));
      case 'POST /_emulator/instances': {
        const inst = emu.state.createInstance((await jsonBody(req)) as CreateInstanceInput);
        return send(res, 200, { ...emu.instanceView(inst.id), imdsEndpoint: emu.imdsEndpoint(inst.id) });
      }
      default:
        if (await serveCommonAdmin(adminTarget(emu), route, req, res)) return;
        return send(res, 404, { error: 'NotFound', message: `no admin route ${route}` });
    }
  } catch (err) {
    if (err instanceof SyntaxError) return send(res, 400, { error: 'BadJson', message: err.message });
    if (isVpcnetError(err)) {
      const e = ec2ErrorOf(err);
      return send(res, err.details.awsCode ? e.httpStatus : 400, { error: e.awsCode, code: err.code, message: err.message });
    }
    throw err;
  }
}

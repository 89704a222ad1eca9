// Admin HTTP API (/_emulator/...): set up scenarios, inject faults and latency, read the
// state the simulated VPC routes by, and follow changes as server-sent events.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isVpcnetError } from '../../../src/errors.ts';
import { ec2ErrorOf } from './ec2-error.ts';
import type { AwsEmulator } from './emulator.ts';
import { readBody } from './emulator.ts';
import { parseFaultRule } from './faults.ts';
import type { CreateInstanceInput } from './state.ts';

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

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

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  return text ? (JSON.parse(text) as unknown) : {};
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
      case 'GET /_emulator/stats':
        return send(res, 200, emu.stats());
      case 'POST /_emulator/scenario':
        return send(res, 200, emu.applyScenario(await jsonBody(req)));
      case 'POST /_emulator/instances': {
        const inst = emu.state.createInstance((await jsonBody(req)) as CreateInstanceInput);
        return send(res, 200, { ...emu.instanceView(inst.id), imdsEndpoint: emu.imdsEndpoint(inst.id) });
      }
      case 'GET /_emulator/faults':
        return send(res, 200, emu.faults.list());
      case 'POST /_emulator/faults':
        return send(res, 200, { id: emu.faults.add(parseFaultRule(await jsonBody(req))) });
      case 'DELETE /_emulator/faults':
        emu.faults.clear();
        return send(res, 200, {});
      case 'POST /_emulator/latency': {
        const body = (await jsonBody(req)) as { action?: string; ms?: number };
        emu.faults.setLatency(body.action ?? '*', Number(body.ms ?? 0));
        return send(res, 200, {});
      }
      case 'POST /_emulator/imds-lag': {
        const body = (await jsonBody(req)) as { ms?: number };
        emu.imds.setLag(Number(body.ms ?? 0));
        return send(res, 200, {});
      }
      case 'POST /_emulator/throttling': {
        const body = (await jsonBody(req)) as { enabled?: boolean };
        emu.throttler.enabled = body.enabled !== false;
        return send(res, 200, {});
      }
      case 'GET /_emulator/events':
        return streamEvents(emu, req, res);
      default:
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

/** Server-sent events: one `change` event per state change, until the client goes away. */
function streamEvents(emu: AwsEmulator, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(`: version ${emu.state.version}\n\n`);
  const off = emu.onChange((ev) => res.write(`event: change\ndata: ${JSON.stringify(ev)}\n\n`));
  req.on('close', off);
}

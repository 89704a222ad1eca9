// The admin API every emulator shares under /_emulator/: faults, latency, throttling on/off,
// metadata lag, stats and a server-sent event stream of state changes. Each emulator adds its
// own routes (scenarios, instances, state) and hands the rest here.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseFaultRule, type FaultTable } from './faults.ts';
import { readJson, sendJson } from './http-server.ts';

export interface AdminTarget {
  faults: FaultTable;
  /** The server-side buckets (their `enabled` switch). */
  throttling?: { enabled: boolean };
  /** Sets the metadata lag in ms. */
  setMetadataLag?(ms: number): void;
  stats(): unknown;
  /** Subscribes to state changes; returns the unsubscribe function. */
  onChange?(listener: (ev: unknown) => void): () => void;
  /** Current state version, sent first on the event stream. */
  version?(): number;
}

/** Serves a shared admin route; false when `route` ("METHOD /path") is not one of them. */
export async function serveCommonAdmin(target: AdminTarget, route: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  switch (route) {
    case 'GET /_emulator/stats':
      sendJson(res, 200, target.stats());
      return true;
    case 'GET /_emulator/faults':
      sendJson(res, 200, target.faults.list());
      return true;
    case 'POST /_emulator/faults':
      sendJson(res, 200, { id: target.faults.add(parseFaultRule(await readJson(req))) });
      return true;
    case 'DELETE /_emulator/faults':
      target.faults.clear();
      sendJson(res, 200, {});
      return true;
    case 'POST /_emulator/latency': {
      const body = (await readJson(req)) as { action?: string; ms?: number };
      target.faults.setLatency(body.action ?? '*', Number(body.ms ?? 0));
      sendJson(res, 200, {});
      return true;
    }
    case 'POST /_emulator/imds-lag':
    case 'POST /_emulator/metadata-lag': {
      if (!target.setMetadataLag) return false;
      const body = (await readJson(req)) as { ms?: number };
      target.setMetadataLag(Number(body.ms ?? 0));
      sendJson(res, 200, {});
      return true;
    }
    case 'POST /_emulator/throttling': {
      if (!target.throttling) return false;
      const body = (await readJson(req)) as { enabled?: boolean };
      target.throttling.enabled = body.enabled !== false;
      sendJson(res, 200, {});
      return true;
    }
    case 'GET /_emulator/events':
      if (!target.onChange) return false;
      streamEvents(target, target.onChange.bind(target), req, res);
      return true;
    default:
      return false;
  }
}

/** Server-sent events: one `change` event per state change, until the client goes away. */
function streamEvents(target: AdminTarget, onChange: NonNullable<AdminTarget['onChange']>, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(`: version ${target.version?.() ?? 0}\n\n`);
  const off = onChange((ev) => res.write(`event: change\ndata: ${JSON.stringify(ev)}\n\n`));
  req.on('close', off);
}

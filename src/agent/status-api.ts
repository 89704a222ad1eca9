// The agent's localhost HTTP endpoints: introspection (/v1/status), probes (/healthz,
// /readyz) and Prometheus (/metrics). Read-only; binds to loopback by default.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { VpcnetError } from '../errors.ts';

export interface StatusSource {
  status(): unknown;
  ready(): boolean;
  metrics(): Promise<{ contentType: string; body: string }>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(listen.slice(i + 1)) };
}

/** Starts one server; `routes` limits what it answers (the API and metrics listen apart). */
export async function startHttp(listen: string, source: StatusSource, routes: 'api' | 'metrics'): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, type: string, body: string): void => {
      res.writeHead(code, { 'content-type': type }).end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'method not allowed\n');
    if (routes === 'metrics' && path === '/metrics') {
      source.metrics().then(
        (m) => send(200, m.contentType, m.body),
        () => send(500, 'text/plain', 'metrics unavailable\n'),
      );
      return;
    }
    if (routes === 'api') {
      if (path === '/healthz') return send(200, 'text/plain', 'ok\n');
      if (path === '/readyz') return source.ready() ? send(200, 'text/plain', 'ready\n') : send(503, 'text/plain', 'pool not ready\n');
      if (path === '/v1/status') return send(200, 'application/json', `${JSON.stringify(source.status(), null, 2)}\n`);
    }
    send(404, 'text/plain', 'not found\n');
  });
  const { host, port } = parseListen(listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new VpcnetError('CONFIG_INVALID', `cannot listen on ${listen}`, { cause: err, details: { listen } })));
    server.listen(port, host, () => resolve());
  });
  return server;
}

export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

// Tiny TCP echo for the lab (demo and tests), run inside a namespace: `ip netns exec NS node echo.ts`.
//   server PORT        -> prints "ready"; answers each connection with the peer's address
//   client HOST PORT [TIMEOUT_MS] -> prints what the server answered; exit 1 on error/timeout
import { connect, createServer } from 'node:net';

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'server') {
  const server = createServer((s) => {
    s.on('error', () => undefined);
    s.end(`${s.remoteAddress ?? '?'}\n`);
  });
  server.listen(Number(a), '0.0.0.0', () => process.stdout.write('ready\n'));
} else if (mode === 'client') {
  const timer = setTimeout(() => {
    process.stdout.write('timeout\n');
    process.exit(1);
  }, Number(c ?? 3000));
  let data = '';
  const s = connect({ host: a, port: Number(b) });
  s.on('data', (d) => (data += d.toString()));
  s.on('end', () => {
    clearTimeout(timer);
    process.stdout.write(data);
    process.exit(0);
  });
  s.on('error', (err) => {
    process.stdout.write(`error ${err.message}\n`);
    process.exit(1);
  });
} else {
  process.stderr.write('usage: echo.ts server PORT | client HOST PORT\n');
  process.exit(2);
}

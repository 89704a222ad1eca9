// The agent process that `npm run bench:agent` measures: the real Agent (AWS provider over the
// SDK, Kubernetes client, Prometheus metrics, CNI socket, reconciler, checkpoint file) from a
// config file, with the in-memory datapath and netns inspector instead of netlink (no namespaces on the bench
// machine). Reports on stdout: one `ready` line once the pool can serve, then `stats` lines on
// SIGUSR2 (memory, CPU).
import { Agent } from '../../src/agent/agent.ts';
import { MemoryNetnsInspector } from '../../src/cni/netns-inspector.ts';
import { loadConfig } from '../../src/config/load.ts';
import { FakeDatapath } from '../../src/datapath/fake-datapath.ts';
import { createLogger } from '../../src/util/logger.ts';

const t0 = performance.now();
const { config } = loadConfig({ file: process.argv[2] ?? '' });
const agent = new Agent(config, {
  datapath: new FakeDatapath({ allowedNetnsDirs: config.cni.netnsPathPrefixes }),
  // The bench talks to the socket directly (no forwarder, no namespaces): no descriptor to inspect.
  netns: new MemoryNetnsInspector(),
  credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' },
  forwarderPath: process.argv[3] ?? '',
  logger: createLogger({ level: 'warn' }),
});
const stats = (): string => {
  const m = process.memoryUsage();
  const c = process.cpuUsage();
  return JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, cpuUserUs: c.user, cpuSystemUs: c.system, uptimeMs: performance.now() });
};
process.on('SIGUSR2', () => process.stdout.write(`stats ${stats()}\n`));
process.on('SIGTERM', () => void agent.stop().then(() => process.exit(0)));
await agent.start();
for (;;) {
  if (agent.ready()) break;
  await new Promise((r) => setTimeout(r, 20));
}
process.stdout.write(`ready ${JSON.stringify({ startMs: performance.now() - t0, sinceProcessStartMs: performance.now() })}\n`);

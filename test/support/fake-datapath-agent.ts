// The agent as its own process with the recording fake datapath (no root), for tests that kill
// it with SIGKILL against an emulator running in the test process. argv: config file. Prints
// one JSON line on stdout once it serves: {"started": ms since the process began, "api": port}.
import { readFileSync } from 'node:fs';
import { Agent } from '../../src/agent/agent.ts';
import { MemoryNetnsInspector } from '../../src/cni/netns-inspector.ts';
import { configSchema } from '../../src/config/schema.ts';
import { FakeDatapath } from '../../src/datapath/fake-datapath.ts';

const began = performance.now();
const config = configSchema.parse(JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')));
const agent = new Agent(config, {
  datapath: new FakeDatapath({ allowedNetnsDirs: config.cni.netnsPathPrefixes.map((p) => p.replace(/\/$/, '')) }),
  netns: new MemoryNetnsInspector(),
});
process.on('SIGTERM', () => void agent.stop().then(() => process.exit(0)));
await agent.start();
while (!agent.status().installed) await new Promise((r) => setTimeout(r, 20));
process.stdout.write(`${JSON.stringify({ started: Math.round(performance.now() - began), api: agent.ports().api })}\n`);

import { pino } from 'pino';
import { runScale } from './scale-run.ts';
const logger = pino({ level: 'error' }, pino.destination(2));
const t = setInterval(() => console.error('tick'), 3000);
const r = await runScale({ nodes: Number(process.argv[2] ?? 1), seed: 1, churnCycles: Number(process.argv[3] ?? 0), phaseWindowMs: 30000, settleMs: Number(process.argv[4] ?? 1000), logger, podsPerNode: 1, progress: (l) => console.error(l) });
clearInterval(t);
console.log(r.warm, r.bootRestarts, r.failures, r.leakTotal, r.wallSeconds, r.emulatedSeconds);

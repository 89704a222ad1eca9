// The agent as its own process (`node src/cli/main.ts agent --config F`), for tests that kill it
// with SIGKILL. Its JSON log lines (stderr) are kept in memory and copied to a file.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(import.meta.dirname, '..', '..');

export interface LogLine {
  msg?: string;
  [k: string]: unknown;
}

export class AgentProcess {
  child: ChildProcess | undefined;
  lines: LogLine[] = [];
  starts = 0;
  private readonly args: string[];
  private readonly env: Record<string, string>;
  private readonly log: WriteStream;
  private exited: Promise<void> = Promise.resolve();

  constructor(configFile: string, env: Record<string, string>, logFile: string) {
    this.args = [join(ROOT, 'src/cli/main.ts'), 'agent', '--config', configFile];
    this.env = env;
    this.log = createWriteStream(logFile);
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts it and resolves once the conflist is installed (the pool can serve). */
  async start(timeoutMs = 30_000): Promise<void> {
    this.lines = [];
    this.starts++;
    const child = spawn(process.execPath, this.args, { env: this.env, stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', () => r()));
    this.log.write(`--- start ${this.starts}\n`);
    createInterface({ input: child.stderr! }).on('line', (l) => {
      this.log.write(`${l}\n`);
      try {
        this.lines.push(JSON.parse(l) as LogLine);
      } catch {
        this.lines.push({ msg: l });
      }
    });
    await this.waitLog((l) => l.msg === 'CNI executable and conflist installed', timeoutMs);
  }

  async waitLog(pred: (l: LogLine) => boolean, timeoutMs: number): Promise<LogLine> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (!this.alive) throw new Error(`agent exited while waiting; last lines: ${JSON.stringify(this.lines.slice(-5))}`);
      if (Date.now() > end) throw new Error(`agent log wait timed out; last lines: ${JSON.stringify(this.lines.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGKILL now. */
  killNow(): void {
    if (this.alive && this.child?.pid) process.kill(this.child.pid, 'SIGKILL');
  }

  async kill(): Promise<void> {
    this.killNow();
    await this.exited;
  }

  async close(): Promise<void> {
    await this.kill();
    this.log.end();
  }
}

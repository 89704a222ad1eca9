// Starts echo servers and probes from lab namespaces (demo and privileged tests). The server
// answers each connection with the source address it sees, which proves (no) NAT.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ECHO = fileURLToPath(new URL('./echo.ts', import.meta.url));

export interface EchoServer {
  proc: ChildProcess;
  stop(): void;
}

/** Starts the echo server inside `ns` and waits until it listens. */
export async function startEcho(ns: string, port: number): Promise<EchoServer> {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, ECHO, 'server', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`echo server in ${ns} did not start`)), 15_000);
    proc.stdout?.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`echo server in ${ns} exited ${code}`));
    });
  });
  return {
    proc,
    stop: () => {
      if (proc.exitCode === null && proc.pid) process.kill(proc.pid, 'SIGTERM');
    },
  };
}

/** Connects from `ns` to host:port; resolves with the address the server saw, or "unreachable". */
export function echoFrom(ns: string, host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, ECHO, 'client', host, String(port), String(timeoutMs)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('exit', (code) => resolve(code === 0 ? out.trim() : 'unreachable'));
  });
}

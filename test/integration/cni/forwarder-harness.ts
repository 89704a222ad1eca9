// Runs the BUILT forwarder exactly as a container runtime does: CNI_* env, config on stdin,
// result on stdout, exit status. The agent runs in this process (handler + socket server).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CniSocketServer } from '../../../src/agent/socket-server.ts';
import type { CniRequestHandler } from '../../../src/agent/socket-server.ts';
import { installForwarder } from '../../../src/cni/install.ts';

const root = join(import.meta.dirname, '..', '..', '..');

export interface CniRun {
  code: number;
  stdout: string;
  json: Record<string, unknown> | undefined;
}

export interface Harness {
  dir: string;
  socket: string;
  cniPath: string;
  server: CniSocketServer | undefined;
  run(env: Record<string, string>, stdin: string | Buffer, extraEnv?: Record<string, string>): Promise<CniRun>;
  close(): Promise<void>;
}

/** Builds the forwarder (build.sh is incremental) and installs it as <dir>/bin/vpcnet; returns the bin dir. */
export async function installBuiltForwarder(dir: string): Promise<string> {
  const build = spawnSync('bash', [join(root, 'src/cni/native/build.sh')], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`forwarder build failed: ${build.stderr}`);
  const bin = join(dir, 'bin');
  await installForwarder(join(root, 'build/native/vpcnet-cni'), bin);
  return bin;
}

export async function startHarness(handler: CniRequestHandler | undefined, opts: { requestTimeoutMs?: number } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'vpcnet-cni-'));
  const cniPath = await installBuiltForwarder(dir);
  const socket = join(dir, 'run', 'cni.sock');
  const server = handler ? new CniSocketServer({ path: socket, handler, requestTimeoutMs: opts.requestTimeoutMs ?? 10000 }) : undefined;
  await server?.start();
  return {
    dir,
    socket,
    cniPath,
    server,
    run: (env, stdin, extraEnv = {}) => runForwarder(join(cniPath, 'vpcnet'), { CNI_PATH: cniPath, ...env, VPCNET_AGENT_SOCKET: socket, ...extraEnv }, stdin),
    close: async () => {
      await server?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function runForwarder(bin: string, env: Record<string, string>, stdin: string | Buffer, argv: string[] = []): Promise<CniRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, argv, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.resume();
    child.on('error', reject);
    // the forwarder may stop reading an oversized stdin early
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      let json: Record<string, unknown> | undefined;
      try {
        json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, json });
    });
  });
}

// The agent's paths section for a test: everything under one temporary directory.
import { join } from 'node:path';

export function agentPaths(dir: string): { socket: string; delSpoolDir: string; checkpoint: string; cniBinDir: string; cniConfDir: string } {
  return {
    socket: join(dir, 'run', 'cni.sock'),
    delSpoolDir: join(dir, 'del-spool'),
    checkpoint: join(dir, 'state', 'checkpoint.json'),
    cniBinDir: join(dir, 'host-bin'),
    cniConfDir: join(dir, 'net.d'),
  };
}

// A lean agent: loading the agent's code loads one cloud's SDK and no Kubernetes client; that
// one is imported only when Kubernetes is on (src/k8s/lazy-kube-client.ts).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';

function packagesOf(module: string): string[] {
  const out = execFileSync(process.execPath, ['test/support/loaded-packages.ts', module], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() ?? '[]') as string[];
}

describe('lean agent imports', () => {
  it('the agent and its command load no Kubernetes client and no other cloud SDK', () => {
    for (const m of ['src/agent/agent.ts', 'src/cli/agent-command.ts']) {
      const pkgs = packagesOf(m);
      expect(pkgs).not.toContain('@kubernetes/client-node');
      expect(pkgs.filter((p) => p.startsWith('@azure/') || p.startsWith('@google-cloud/'))).toEqual([]);
    }
  });

  it('the Kubernetes client module does load it (so the check above can fail)', () => {
    expect(packagesOf('src/k8s/real-kube-client.ts')).toContain('@kubernetes/client-node');
  });
});

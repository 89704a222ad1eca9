// A lean agent: loading the agent's code loads one cloud's SDK and no Kubernetes client; the
// agent's own client is imported only when Kubernetes is on (src/k8s/lazy-kube-client.ts), and
// @kubernetes/client-node never (it is the test-side reference).
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

  it("the agent's Kubernetes client needs only js-yaml (for kubeconfig files)", () => {
    expect(packagesOf('src/k8s/http-kube-client.ts')).toEqual([]);
    expect(packagesOf('src/k8s/lazy-kube-client.ts')).toEqual([]);
    // esprima: js-yaml 3 requires it when present (for !!js types, which JSON_SCHEMA never parses).
    expect(packagesOf('src/k8s/kubeconfig.ts').filter((p) => p !== 'esprima')).toEqual(['js-yaml']);
  });

  it('the test-side reference client does load @kubernetes/client-node (so the checks above can fail)', () => {
    expect(packagesOf('test/support/client-node-kube-client.ts')).toContain('@kubernetes/client-node');
  });
});

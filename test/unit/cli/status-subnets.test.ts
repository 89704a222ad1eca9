// `vpcnet status` shows the free aligned /28s of each subnet the node has read.
import { expect, test } from '@jest/globals';
import type { AgentStatus } from '../../../src/agent/agent.ts';
import { renderStatus } from '../../../src/cli/status-table.ts';

test('one line per subnet with its free aligned /28s', () => {
  const status = {
    node: undefined,
    limits: undefined,
    ready: true,
    installed: true,
    pods: [],
    pool: {
      nics: [],
      targets: { warmNics: 0, maxAboveTarget: 0, cooldownMs: 30_000 },
      mode: 'node',
      blockKind: 'prefix',
      counts: { assigned: 0, available: 0, cooldown: 0, total: 0 },
      conditions: [],
      lost: [],
    },
    subnets: [{ subnetId: 'subnet-1', cidr: '10.0.0.0/24', freePrefixes: 9, prefixes: 16, freeAddresses: 180, readAt: Date.UTC(2026, 0, 1) }],
  } as unknown as AgentStatus;
  expect(renderStatus('node-a', status).split('\n')).toContain('subnet subnet-1 10.0.0.0/24: 9 of 16 aligned /28s free, 180 addresses free (read 2026-01-01T00:00:00.000Z)');
});

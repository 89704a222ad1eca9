// `vpcnet status [--api HOST:PORT] [--json]`: the local agent's NICs, addresses, pods and
// targets, read from its introspection API (default: apiListen of the config).
import { parseArgs } from 'node:util';
import type { AgentStatus } from '../agent/agent.ts';
import { loadConfig } from '../config/load.ts';
import { isVpcnetError } from '../errors.ts';
import { renderStatus, table } from './status-table.ts';

export async function runStatusCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { api: { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
    strict: true,
  });
  let api = values.api;
  if (!api) {
    try {
      api = loadConfig(values.config ? { file: values.config } : {}).config.apiListen;
    } catch (err) {
      console.error(`vpcnet status: ${isVpcnetError(err) ? err.message : String(err)}`);
      process.exit(2);
    }
  }
  let status: AgentStatus;
  try {
    const res = await fetch(`http://${api}/v1/status`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    status = (await res.json()) as AgentStatus;
  } catch (err) {
    console.error(`vpcnet status: the agent's API at ${api} is not reachable (${err instanceof Error ? err.message : String(err)}); is the agent running?`);
    process.exit(1);
  }
  if (values.json) {
    console.log(JSON.stringify(status, null, 2));
    return;
  }
  console.log(renderStatus('node', status));
  const pods = status.pool ? podsOf(status) : [];
  if (pods.length) console.log(`\n${table([['CONTAINER', 'IFNAME', 'POD', 'IP', 'NIC'], ...pods])}`);
}

function podsOf(status: AgentStatus): string[][] {
  return (status.pods ?? []).map((a) => [
    a.containerId.slice(0, 12),
    a.ifname,
    a.podName ? `${a.podNamespace ?? 'default'}/${a.podName}` : '-',
    a.ip,
    `eth${a.deviceIndex}`,
  ]);
}

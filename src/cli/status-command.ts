// `vpcnet status [--api HOST:PORT] [--json]`: the local agent's NICs, addresses, pods and
// targets, read from its introspection API (default: apiListen of the config).
import type { AgentStatus } from '../agent/agent.ts';
import { loadConfig } from '../config/load.ts';
import { isVpcnetError } from '../errors.ts';
import { helpText, parseCommand, stringValue, usageError, type CommandSpec } from '../util/cli-args.ts';
import { renderStatus, table } from './status-table.ts';

export const statusSpec: CommandSpec = {
  name: 'vpcnet status',
  summary: "the local agent's NICs, addresses, pods and pool targets",
  options: {
    api: { type: 'string', value: 'HOST:PORT', description: "the agent's introspection API (default: apiListen of the config)" },
    config: { type: 'string', short: 'c', value: 'FILE', description: 'config file to read apiListen from' },
    json: { type: 'boolean', description: 'print the raw status JSON' },
  },
};

export async function runStatusCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(statusSpec, argv);
  if (parsed === 'help') return console.log(helpText(statusSpec));
  let api = stringValue(parsed, 'api');
  if (api !== undefined && !/^[^\s/:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(api)) {
    throw usageError(statusSpec, `--api must be HOST:PORT, got "${api}"`);
  }
  if (!api) {
    const file = stringValue(parsed, 'config');
    try {
      api = loadConfig(file ? { file } : {}).config.apiListen;
    } catch (err) {
      if (isVpcnetError(err, 'CONFIG_INVALID')) throw usageError(statusSpec, err.message, err);
      throw err;
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
  if (parsed.values.json) {
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

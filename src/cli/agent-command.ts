// `vpcnet agent [--config FILE]`: runs the node agent until SIGTERM/SIGINT.
import { Agent } from '../agent/agent.ts';
import { loadConfig, renderEffectiveConfig } from '../config/load.ts';
import { isVpcnetError } from '../errors.ts';
import { createLogger } from '../util/logger.ts';
import { helpText, parseCommand, stringValue, usageError, type CommandSpec } from '../util/cli-args.ts';

export const agentSpec: CommandSpec = {
  name: 'vpcnet agent',
  summary: 'run the node agent (DaemonSet) until SIGTERM or SIGINT',
  options: {
    config: { type: 'string', short: 'c', value: 'FILE', description: 'JSON config file (default $VPCNET_CONFIG; VPCNET_* variables override it)' },
  },
  notes: 'Every setting, its variable and default: docs/operations.md (npm run docs:config).',
};

export async function runAgentCommand(argv: string[]): Promise<void> {
  const parsed = parseCommand(agentSpec, argv);
  if (parsed === 'help') return console.log(helpText(agentSpec));
  const file = stringValue(parsed, 'config');
  let loaded;
  try {
    loaded = loadConfig(file ? { file } : {});
  } catch (err) {
    if (isVpcnetError(err, 'CONFIG_INVALID')) throw usageError(agentSpec, err.message, err);
    throw err;
  }
  const logger = createLogger({ level: loaded.config.logLevel });
  logger.info({ config: renderEffectiveConfig(loaded).split('\n') }, 'effective config');
  const agent = new Agent(loaded.config, { logger });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    await agent.start();
  } catch (err) {
    logger.fatal({ err, code: isVpcnetError(err) ? err.code : undefined }, 'agent failed to start');
    await agent.stop().catch(() => undefined);
    // A setting the user can fix (a listen address in use, ...): one line and the usage, exit 2.
    if (isVpcnetError(err, 'CONFIG_INVALID')) throw usageError(agentSpec, `${err.message}${causeText(err.cause)}`, err);
    process.exit(1);
  }
}

function causeText(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' ? ': the address is in use (choose another, or port 0 for a free one)' : code ? ` (${code})` : '';
}

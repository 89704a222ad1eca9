// `vpcnet agent [--config FILE]`: runs the node agent until SIGTERM/SIGINT.
import { parseArgs } from 'node:util';
import { Agent } from '../agent/agent.ts';
import { loadConfig, renderEffectiveConfig } from '../config/load.ts';
import { isVpcnetError } from '../errors.ts';
import { createLogger } from '../util/logger.ts';

export async function runAgentCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true });
  let loaded;
  try {
    loaded = loadConfig(values.config ? { file: values.config } : {});
  } catch (err) {
    console.error(`vpcnet agent: ${isVpcnetError(err) ? err.message : String(err)}`);
    process.exit(2);
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
    process.exit(1);
  }
}

#!/usr/bin/env node
// vpcnet command line. Subcommands live in their modules; this file dispatches and turns a
// user's mistake (VpcnetError code USAGE) into one line plus the usage, exit 2. Anything else
// thrown is a bug and keeps its stack trace.
import { readFileSync } from 'node:fs';
import { isVpcnetError } from '../errors.ts';
import { usageError } from '../util/cli-args.ts';

const usage = `vpcnet - VPC-native pod networking

Usage: vpcnet <command> [options]      (vpcnet <command> --help for its options)

Commands:
  agent [--config FILE]       run the node agent (config: file + VPCNET_* environment)
  status [--api H:P] [--json] the local agent's NICs, addresses, pods and pool targets
  demo [--cloud C --nodes N]  the simulated-VPC demo (root): lab, agents, pods, connectivity
  max-pods --instance-type T  pods a node can run (AWS type, --vm-size, --pod-range)
  emulator <cloud> [--port N] run a cloud emulator: aws (EC2 + IMDSv2), azure (ARM + IMDS),
                              gcp (Compute + metadata); --scenario FILE, --help for the rest
  version, --version          print the version
  help [command], --help      this text, or a command's help`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return `vpcnet ${pkg.version ?? 'unknown'}`;
}

async function dispatch(command: string, rest: string[]): Promise<void> {
  switch (command) {
    case 'agent':
      return (await import('./agent-command.ts')).runAgentCommand(rest);
    case 'status':
      return (await import('./status-command.ts')).runStatusCommand(rest);
    case 'demo':
      return (await import('./demo-command.ts')).runDemoCommand(rest);
    case 'max-pods':
      return (await import('./max-pods-command.ts')).runMaxPodsCommand(rest);
    case 'emulator':
      return (await import('./emulator-command.ts')).runEmulatorCommand(rest);
    case 'version':
    case '--version':
    case '-V':
      console.log(version());
      return;
    case 'help':
    case '--help':
    case '-h':
      if (rest[0] && rest[0] !== 'help') return dispatch(rest[0], [...rest.slice(1), '--help']);
      console.log(usage);
      return;
    default:
      throw usageError(undefined, `unknown command "${command}"`);
  }
}

const [command = 'help', ...rest] = process.argv.slice(2);
try {
  await dispatch(command, rest);
} catch (err) {
  if (isVpcnetError(err, 'USAGE')) {
    const text = typeof err.details.usage === 'string' ? err.details.usage : usage;
    console.error(`${String(err.details.command ?? 'vpcnet')}: ${err.message}\n\n${text}`);
    process.exit(2);
  }
  throw err;
}

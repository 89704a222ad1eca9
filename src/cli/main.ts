#!/usr/bin/env node
// vpcnet command line. Subcommands live in their modules; this file dispatches and turns a
// user's mistake (VpcnetError code USAGE) into one line plus the usage, exit 2. Anything else
// thrown is a bug and keeps its stack trace.
import { readFileSync } from 'node:fs';
import { isVpcnetError } from '../errors.ts';
import { helpText, parseCommand, usageError, type CommandSpec } from '../util/cli-args.ts';
import { route, type CommandName } from './route.ts';

const usage = `vpcnet - VPC-native pod networking

Usage: vpcnet <command> [options]      (vpcnet <command> --help for its options)

Commands:
  agent [--config FILE]       run the node agent (config: file + VPCNET_* environment)
  status [--api H:P] [--json] the local agent's NICs, addresses, pods and pool targets
  demo [--cloud C --nodes N]  the simulated-VPC demo (root): lab, agents, pods, connectivity
  max-pods --instance-type T  pods a node can run (AWS type, --vm-size, --pod-range)
  emulator <cloud> [--port N] run a cloud emulator: aws (EC2 + IMDSv2), azure (ARM + IMDS),
                              gcp (Compute + metadata); --scenario FILE, --help for the rest
  version, --version, -V      print the version
  help [command], --help, -h  this text, or a command's help (also: vpcnet <command> --help)`;

const versionSpec: CommandSpec = {
  name: 'vpcnet version',
  summary: 'print the version of vpcnet',
  options: {},
  notes: 'Also: vpcnet --version, vpcnet -V.',
};

function version(argv: string[]): void {
  const parsed = parseCommand(versionSpec, argv);
  if (parsed === 'help') return console.log(helpText(versionSpec));
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  console.log(`vpcnet ${pkg.version ?? 'unknown'}`);
}

async function runCommand(name: CommandName, argv: string[]): Promise<void> {
  switch (name) {
    case 'agent':
      return (await import('./agent-command.ts')).runAgentCommand(argv);
    case 'status':
      return (await import('./status-command.ts')).runStatusCommand(argv);
    case 'demo':
      return (await import('./demo-command.ts')).runDemoCommand(argv);
    case 'max-pods':
      return (await import('./max-pods-command.ts')).runMaxPodsCommand(argv);
    case 'emulator':
      return (await import('./emulator-command.ts')).runEmulatorCommand(argv);
  }
}

async function dispatch(argv: string[]): Promise<void> {
  const r = route(argv);
  switch (r.kind) {
    case 'usage':
      return console.log(usage);
    case 'version':
      return version(r.argv);
    case 'command':
      return runCommand(r.name, r.argv);
    case 'unknown':
      throw usageError(undefined, `unknown command "${r.name}"`);
  }
}

try {
  await dispatch(process.argv.slice(2));
} catch (err) {
  if (isVpcnetError(err, 'USAGE')) {
    const text = typeof err.details.usage === 'string' ? err.details.usage : usage;
    console.error(`${String(err.details.command ?? 'vpcnet')}: ${err.message}\n\n${text}`);
    process.exit(2);
  }
  throw err;
}

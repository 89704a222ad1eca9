#!/usr/bin/env node
// vpcnet command line. Subcommands are added by their modules; this file only dispatches.
const [command = 'help'] = process.argv.slice(2);

const usage = `vpcnet - VPC-native pod networking

Usage: vpcnet <command> [options]

Commands:
  agent [--config FILE]     run the node agent (config: file + VPCNET_* environment)
  status [--api H:P] [--json] the local agent's NICs, addresses, pods and pool targets
  demo [--nodes N --pods N] the simulated-VPC demo (root): lab, agents, pods, connectivity
  emulator aws [--port N]   run the EC2 + IMDSv2 emulator (--scenario F --speed X)
  version                   print the version
  help                      this text`;

switch (command) {
  case 'agent':
    await (await import('./agent-command.ts')).runAgentCommand(process.argv.slice(3));
    break;
  case 'status':
    await (await import('./status-command.ts')).runStatusCommand(process.argv.slice(3));
    break;
  case 'demo':
    await (await import('./demo-command.ts')).runDemoCommand(process.argv.slice(3));
    break;
  case 'emulator':
    await (await import('./emulator-command.ts')).runEmulatorCommand(process.argv.slice(3));
    break;
  case 'version':
    console.log('vpcnet 0.1.0');
    break;
  case 'help':
  case '--help':
  case '-h':
    console.log(usage);
    break;
  default:
    console.error(`vpcnet: unknown command "${command}"\n\n${usage}`);
    process.exit(2);
}

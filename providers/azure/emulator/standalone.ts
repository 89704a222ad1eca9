// `vpcnet emulator azure [--port N] [--imds-port N] [--host H] [--scenario file.json]
//  [--seed N] [--operation-ms N] [--async-retry-after S] [--no-throttling]`
// Runs the ARM (HTTPS) + IMDS (HTTP) emulator in the foreground until SIGINT/SIGTERM and prints
// what a client needs: subscription, resource group, VMs with their NICs, the CA file.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { VpcnetError } from '../../../src/errors.ts';
import { AzureEmulator } from './index.ts';
import { DEFAULT_SCENARIO } from './scenario.ts';

function numberOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new VpcnetError('CONFIG_INVALID', `--${name} must be a non-negative number`);
  return n;
}

export async function runStandaloneEmulator(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8998' },
      'imds-port': { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      scenario: { type: 'string' },
      seed: { type: 'string' },
      'operation-ms': { type: 'string' },
      'async-retry-after': { type: 'string' },
      'no-throttling': { type: 'boolean', default: false },
    },
  });
  let scenario: unknown = DEFAULT_SCENARIO;
  if (values.scenario) {
    try {
      scenario = JSON.parse(readFileSync(values.scenario, 'utf8')) as unknown;
    } catch (err) {
      throw new VpcnetError('CONFIG_INVALID', `--scenario ${values.scenario}: cannot read JSON`, { cause: err });
    }
  }
  const emu = new AzureEmulator({
    seed: numberOption('seed', values.seed, 1),
    operationMs: numberOption('operation-ms', values['operation-ms'], 1000),
    asyncRetryAfterS: numberOption('async-retry-after', values['async-retry-after'], 0),
    throttling: { enabled: !values['no-throttling'] },
    logger: pino({ level: 'info' }),
  });
  const result = emu.applyScenario(scenario);
  const endpoint = await emu.start({
    port: numberOption('port', values.port, 8998),
    host: values.host,
    ...(values['imds-port'] ? { imdsPort: numberOption('imds-port', values['imds-port'], 0) } : {}),
  });
  console.log(`ARM endpoint:    ${endpoint}   (HTTPS; CA: ${emu.tls.caPath})`);
  console.log(`Subscription:    ${emu.state.subscriptionId}   tenant ${emu.state.tenantId}`);
  console.log(`Resource group:  ${result.resourceGroup}`);
  console.log(`Admin API:       ${endpoint}/_emulator/state`);
  console.log(`Token endpoint:  ${endpoint}/${emu.state.tenantId}/oauth2/v2.0/token (workload identity)`);
  console.log('VMs (IMDS per VM):');
  for (const vm of result.vms) {
    console.log(`  ${vm.name}${vm.scaleSet ? ` (scale set ${vm.scaleSet})` : ''} ${vm.size}  IMDS ${emu.imdsUrlFor(vm.name)}/metadata/instance?api-version=2021-02-01`);
    for (const nic of vm.nics) console.log(`    NIC ${nic.split('/').pop() ?? nic}  ${emu.state.nics.get(nic.toLowerCase())?.mac ?? ''}`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emu.stop();
}

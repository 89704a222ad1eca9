// `vpcnet emulator azure [options]`: the ARM (HTTPS) + IMDS (HTTP) emulator in the foreground
// until SIGINT/SIGTERM (registry entry `standaloneEmulator`). It prints what a client needs:
// subscription, resource group, VMs with their NICs, the CA file. A user's mistake is a USAGE
// error: one line, exit 2.
import { rmSync } from 'node:fs';
import { pino } from 'pino';
import { intValue, numberValue, stringValue, usageError, type CommandSpec, type Parsed } from '../../../src/util/cli-args.ts';
import { applyOrExplain, listenOrExplain, readScenarioFile, standaloneCommand, untilStopped } from '../../kit/emulator/standalone.ts';
import { AzureEmulator } from './index.ts';
import { DEFAULT_SCENARIO, parseScenario } from './scenario.ts';
import { makeCertificates } from './tls.ts';

export const azureSpec: CommandSpec = {
  name: 'vpcnet emulator azure',
  summary: 'the Azure Resource Manager (network, compute) + IMDS emulator, for integration tests',
  options: {
    port: { type: 'string', value: 'N', description: 'ARM (HTTPS) port (0: pick a free one)', default: '8998' },
    'imds-port': { type: 'string', value: 'N', description: 'IMDS (HTTP) port, serving every VM under /imds/<vm>/ (0: pick a free one)', default: '8996' },
    host: { type: 'string', value: 'H', description: 'address to listen on', default: '127.0.0.1' },
    scenario: { type: 'string', value: 'FILE', description: 'JSON scenario: resource group, VNets, subnets, VMs (default: a small cluster)' },
    seed: { type: 'string', value: 'N', description: 'seeds ids, MACs and random picks', default: '1' },
    'operation-ms': { type: 'string', value: 'N', description: 'a long-running operation takes N ms', default: '1000' },
    'async-retry-after': { type: 'string', value: 'S', description: 'Retry-After (seconds) on long-running operations', default: '0' },
    'no-throttling': { type: 'boolean', description: 'turn the ARM request buckets off' },
    'accept-any-token': { type: 'boolean', description: 'accept any well-formed bearer token, for clients that cannot fetch one from the emulator (e.g. az)' },
  },
  notes: 'Clients (CA file, workload identity token), the admin API and what is modelled: docs/providers/azure-emulator.md',
};

async function runAzure(p: Parsed): Promise<void> {
  const spec = azureSpec;
  const port = intValue(spec, p, 'port', { min: 0, max: 65535 }, 8998);
  const imdsPort = intValue(spec, p, 'imds-port', { min: 0, max: 65535 }, 8996);
  const host = stringValue(p, 'host') ?? '127.0.0.1';
  const file = stringValue(p, 'scenario');
  const scenario = file ? readScenarioFile(spec, file, parseScenario) : DEFAULT_SCENARIO;
  const options = {
    seed: intValue(spec, p, 'seed', { min: 0, max: 2 ** 31 - 1 }, 1),
    operationMs: numberValue(spec, p, 'operation-ms', 0, 1000),
    asyncRetryAfterS: numberValue(spec, p, 'async-retry-after', 0, 0),
    throttling: { enabled: p.values['no-throttling'] !== true },
    acceptAnyToken: p.values['accept-any-token'] === true,
    logger: pino({ level: 'warn' }),
  };
  // The certificate directory holds the CA and server private keys: made 0700 (mkdtemp) and
  // removed on every way out. Signals are caught from here on, so one during start-up still
  // ends in the finally below; the exit hook covers a process.exit() elsewhere.
  const stopped = untilStopped();
  const tls = makeCertificates();
  const removeTls = (): void => rmSync(tls.dir, { recursive: true, force: true });
  process.once('exit', removeTls);
  try {
    const emu = new AzureEmulator({ ...options, tls });
    const result = applyOrExplain(spec, file, () => emu.applyScenario(scenario));
    const endpoint = await listenOrExplain(spec, host, port, () =>
      emu.start({ port, host, imdsPort }).catch((err: unknown) => {
        // The ARM port is named by listenOrExplain; a busy IMDS port needs its own way out.
        const e = err as NodeJS.ErrnoException & { port?: number };
        if (e.code === 'EADDRINUSE' && imdsPort !== 0 && e.port === imdsPort && imdsPort !== port) {
          throw usageError(spec, `IMDS port ${imdsPort} on ${host} is in use (choose another --imds-port, or --imds-port 0 for a free one)`, err);
        }
        throw err;
      }),
    );
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
    await stopped;
    await emu.stop();
  } finally {
    removeTls();
  }
}

export const runStandaloneEmulator = standaloneCommand(azureSpec, runAzure);

// The Azure provider as the agent's composition root builds it from the config (registry entry).
// Credentials: workload identity (a federated token file, as the AKS webhook projects it) or
// the VM's managed identity from IMDS. ManagedIdentityCredential has no option for another IMDS
// address: it reads AZURE_POD_IDENTITY_AUTHORITY_HOST itself (docs/providers/azure.md).
import { readFileSync } from 'node:fs';
import type { TokenCredential } from '@azure/core-auth';
import { ManagedIdentityCredential, WorkloadIdentityCredential } from '@azure/identity';
import type { VpcnetConfig } from '../../src/config/schema.ts';
import { VpcnetError } from '../../src/errors.ts';
import type { CloudProvider } from '../provider.ts';
import type { ProviderDeps } from '../registry.ts';
import { AzureProvider } from './client/azure-provider.ts';

type AzureSection = Extract<VpcnetConfig['provider'], { name: 'azure' }>;

export function credentialFor(p: AzureSection, ca: string | undefined): TokenCredential {
  const workload = p.identity === 'workload' || (p.identity === undefined && p.federatedTokenFile !== undefined);
  if (!workload) return p.managedIdentityClientId ? new ManagedIdentityCredential({ clientId: p.managedIdentityClientId }) : new ManagedIdentityCredential();
  if (!p.tenantId || !p.workloadClientId || !p.federatedTokenFile) {
    throw new VpcnetError('CONFIG_INVALID', 'azure workload identity needs provider.tenantId, provider.workloadClientId and provider.federatedTokenFile', { details: { path: 'provider' } });
  }
  return new WorkloadIdentityCredential({
    tenantId: p.tenantId,
    clientId: p.workloadClientId,
    tokenFilePath: p.federatedTokenFile,
    ...(p.authorityHost ? { authorityHost: p.authorityHost, disableInstanceDiscovery: true } : {}),
    ...(ca ? { tlsOptions: { ca } } : {}),
  } as ConstructorParameters<typeof WorkloadIdentityCredential>[0]);
}

export function createProvider(config: VpcnetConfig, deps: ProviderDeps): CloudProvider {
  const p = config.provider;
  if (p.name !== 'azure') throw new VpcnetError('CONFIG_INVALID', `the Azure provider got a ${p.name} section`, { details: { path: 'provider.name' } });
  let ca: string | undefined;
  if (p.caFile) {
    try {
      ca = readFileSync(p.caFile, 'utf8');
    } catch (err) {
      throw new VpcnetError('CONFIG_INVALID', `provider.caFile ${p.caFile} cannot be read`, { cause: err, details: { path: 'provider.caFile' } });
    }
  }
  return new AzureProvider({
    credential: credentialFor(p, ca),
    ...(p.apiEndpoint ? { endpoint: p.apiEndpoint } : {}),
    ...(ca ? { ca } : {}),
    ...(p.metadataEndpoint ? { metadataEndpoint: p.metadataEndpoint } : {}),
    ...(p.subscriptionId ? { subscriptionId: p.subscriptionId } : {}),
    ...(p.resourceGroup ? { resourceGroup: p.resourceGroup } : {}),
    ...(p.nicNames?.length ? { nicNames: p.nicNames } : {}),
    prefixBlocks: config.pool.prefixDelegation,
    lroPollMs: p.lroPollMs,
    requestTimeoutMs: p.requestTimeoutMs,
    clock: deps.clock,
    logger: deps.logger,
  });
}

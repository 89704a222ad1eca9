// Builds the AWS provider against a fresh in-process EC2 emulator: the provider's own EC2 Query
// client speaks the Query protocol over loopback (the SDK's client sets scenarios up and checks
// the cloud's side), IMDSv2 is served per instance by the emulator.
import { CreateNetworkInterfaceCommand, DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AwsProvider } from '../../providers/aws/client/aws-provider.ts';
import type { AwsProviderOptions } from '../../providers/aws/client/options.ts';
import { TAGS } from '../../providers/aws/client/options.ts';
import { Ec2RateLimiter } from '../../providers/aws/client/rate-limiter.ts';
import { AwsEmulator, type AwsEmulatorOptions } from '../../providers/aws/emulator/index.ts';
import type { ContractSetup } from '../../providers/contract/provider-contract.ts';

export const CLUSTER = 'contract';
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'emulator-secret' };
const fast = { perSecond: 10_000, concurrency: 64 };

export interface AwsEmulatorEnv extends ContractSetup {
  emu: AwsEmulator;
  provider: AwsProvider;
  instanceId: string;
  subnetId: string;
  ec2: EC2Client;
}

export async function startAwsEmulatorEnv(
  opts: { instanceType?: string; emulator?: AwsEmulatorOptions; provider?: Partial<AwsProviderOptions> } = {},
): Promise<AwsEmulatorEnv> {
  const emu = new AwsEmulator({ region: 'us-west-2', throttling: false, ...opts.emulator });
  const endpoint = await emu.start({ port: 0 });
  const res = emu.applyScenario({
    vpcs: [
      {
        cidr: '10.0.0.0/16',
        subnets: [
          { cidr: '10.0.0.0/24', az: 'us-west-2a' },
          { cidr: '10.0.8.0/24', az: 'us-west-2b' },
        ],
      },
    ],
    instances: [
      { instanceType: opts.instanceType ?? 'm5.large', subnet: '10.0.0.0/24' },
      { instanceType: 'm5.large', subnet: '10.0.0.0/24', tags: { Name: 'other-node' } },
    ],
  });
  const instanceId = res.instanceIds[0] as string;
  const subnetId = res.subnetIds[0] as string;
  const provider = new AwsProvider({
    clusterName: CLUSTER,
    ec2Endpoint: endpoint,
    metadataEndpoint: emu.imdsEndpoint(instanceId),
    credentials: CREDENTIALS,
    prefixDelegation: true,
    // Fast timings for wall-clock tests (the production spacing after a throttle is 10 s).
    rateLimiter: new Ec2RateLimiter({ rates: { '*': fast }, throttledMinIntervalMs: 1 }),
    backoff: { baseMs: 5, capMs: 50, deadlineMs: 500 },
    ...opts.provider,
  });
  const ec2 = new EC2Client({ endpoint, region: 'us-west-2', credentials: CREDENTIALS, maxAttempts: 1 });

  const createLoose = async (subnet: string, tags: Record<string, string>, secondary = 0): Promise<string> => {
    const out = await ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: subnet,
        ...(secondary > 0 ? { SecondaryPrivateIpAddressCount: secondary } : {}),
        TagSpecifications: [{ ResourceType: 'network-interface', Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }],
      }),
    );
    return out.NetworkInterface?.NetworkInterfaceId ?? '';
  };

  return {
    emu,
    provider,
    instanceId,
    subnetId,
    ec2,
    backdoor: {
      async exhaustSubnet(subnet) {
        // Unattached NICs soak up the free addresses, as other tenants of a subnet would.
        for (let take = 49; take >= 0; ) {
          try {
            await createLoose(subnet, { purpose: 'exhaust' }, take);
          } catch (err) {
            if ((err as { name?: string }).name !== 'InsufficientFreeAddressesInSubnet') throw err;
            take = take === 0 ? -1 : Math.floor(take / 2);
          }
        }
      },
      async createLooseNic({ ours, ageMs }) {
        const createdAt = new Date(Date.now() - ageMs).toISOString();
        const tags: Record<string, string> = ours
          ? { [TAGS.cluster]: CLUSTER, [TAGS.createdAt]: createdAt }
          : { [TAGS.cluster]: 'someone-else', [TAGS.createdAt]: createdAt };
        return createLoose(subnetId, tags);
      },
      async nicExists(nicId) {
        try {
          const out = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [nicId] }));
          return (out.NetworkInterfaces ?? []).length > 0;
        } catch (err) {
          if ((err as { name?: string }).name === 'InvalidNetworkInterfaceID.NotFound') return false;
          throw err;
        }
      },
    },
    async cleanup() {
      ec2.destroy();
      await emu.stop();
    },
  };
}

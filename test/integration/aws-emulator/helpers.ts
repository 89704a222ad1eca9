// Shared set-up: an emulator on port 0 with one VPC, two subnets and instances, and an
// EC2Client from the real AWS SDK pointed at it.
import { EC2Client } from '@aws-sdk/client-ec2';
import { AwsEmulator, type AwsEmulatorOptions } from '../../../providers/aws/emulator/index.ts';

export const REGION = 'us-west-2';

export interface Harness {
  emu: AwsEmulator;
  ec2: EC2Client;
  subnetA: string;
  subnetSmall: string;
  instance: string;
  smallInstance: string;
}

export async function startHarness(opts: AwsEmulatorOptions = {}): Promise<Harness> {
  const emu = new AwsEmulator({ region: REGION, throttling: false, ...opts });
  const endpoint = await emu.start({ port: 0 });
  const res = emu.applyScenario({
    vpcs: [
      {
        cidr: '10.0.0.0/16',
        subnets: [
          { cidr: '10.0.0.0/20', az: 'us-west-2a', tags: { 'kubernetes.io/role/cni': '1' } },
          { cidr: '10.0.16.0/26', az: 'us-west-2a', tags: { size: 'small' } },
        ],
      },
    ],
    instances: [
      { instanceType: 'm5.large', subnet: '10.0.0.0/20', tags: { Name: 'node-1' } },
      { instanceType: 't3.micro', subnet: '10.0.0.0/20' },
    ],
  });
  const ec2 = new EC2Client({
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
  return {
    emu,
    ec2,
    subnetA: res.subnetIds[0] as string,
    subnetSmall: res.subnetIds[1] as string,
    instance: res.instanceIds[0] as string,
    smallInstance: res.instanceIds[1] as string,
  };
}

export async function stopHarness(h: Harness): Promise<void> {
  h.ec2.destroy();
  await h.emu.stop();
}

/** The EC2 error code an SDK call failed with. */
export async function errorCodeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { name?: string }).name ?? 'unknown';
  }
  throw new Error('expected the call to fail');
}

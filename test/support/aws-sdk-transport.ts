// The AWS SDK's EC2 client as an Ec2Transport: tests that need what only the SDK offers (its
// middleware stack, its exact serialisation) and the scale benchmark run the provider over it.
// The agent itself uses providers/aws/client/ec2-query.ts.
import * as ec2 from '@aws-sdk/client-ec2';
import type { Ec2Action, Ec2Ops, Ec2Transport } from '../../providers/aws/client/ec2-types.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = new (input: any) => ec2.EC2Client extends { send(c: infer C): unknown } ? C : never;

export function commandFor(action: Ec2Action, input: unknown): unknown {
  const Command = (ec2 as unknown as Record<string, AnyCommand>)[`${action}Command`];
  if (!Command) throw new Error(`no SDK command for ${action}`);
  return new Command(input);
}

export function sdkTransport(client: ec2.EC2Client): Ec2Transport & { client: ec2.EC2Client } {
  return {
    client,
    async send<A extends Ec2Action>(action: A, input: Ec2Ops[A][0]): Promise<Ec2Ops[A][1]> {
      return (await client.send(commandFor(action, input) as never)) as Ec2Ops[A][1];
    },
    destroy: () => client.destroy(),
  };
}

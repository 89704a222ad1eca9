// The EC2 Query names and response shapes the agent's client uses (ec2-shapes.ts) are the
// SDK's model: the committed file is what the generator makes from the installed
// @aws-sdk/client-ec2, and a sample using every input member of every action serialises to
// the same Query parameters through both clients. EC2 names members per action
// (PrivateIpAddresses is a list of strings in one action, of structures in another).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { Shape } from '../../../providers/aws/client/ec2-shape.ts';
import { renderEc2Shapes } from '../../../providers/aws/client/ec2-shapes-generate.ts';
import { INPUT_SHAPES } from '../../../providers/aws/client/ec2-shapes.ts';
import { EC2_ACTIONS, type Ec2Action } from '../../../providers/aws/client/ec2-types.ts';
import { useSideBySide } from './side-by-side.ts';

const w = useSideBySide({ accessKeyId: 'AKIDSHAPES', secretAccessKey: 'shapes-secret' });

/** A value for every member of a shape; lists of two, so Name.1 and Name.2 both appear. */
function sample(shape: Shape, path: string): unknown {
  if (shape === 'string') return `v-${path}`;
  if (shape === 'number') return 7;
  if (shape === 'boolean') return true;
  if ('list' in shape) return [sample(shape.list, `${path}1`), sample(shape.list, `${path}2`)];
  return Object.fromEntries(Object.entries(shape.struct).map(([k, [, s]]) => [k, sample(s, `${path}.${k}`)]));
}

const params = (body: string): string[][] => [...new URLSearchParams(body).entries()].map(([k, v]) => [k, v]).sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));

async function bothSend(action: Ec2Action, input: object): Promise<[string[][], string[][]]> {
  w.server.next = { status: 200, body: `<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId></${action}Response>` };
  w.server.seen.length = 0;
  await w.sdk.send(action, input as never);
  await w.ours.send(action, input as never);
  const [fromSdk, fromOurs] = w.server.seen;
  return [params(fromOurs?.body ?? ''), params(fromSdk?.body ?? '')];
}

describe('EC2 shapes generated from the SDK model', () => {
  it('the committed ec2-shapes.ts is what the generator makes from the installed SDK', async () => {
    const committed = readFileSync(new URL('../../../providers/aws/client/ec2-shapes.ts', import.meta.url), 'utf8');
    expect(committed).toBe(await renderEc2Shapes());
  });

  it.each([...EC2_ACTIONS])('%s: every input member serialises as the SDK serialises it', async (action) => {
    const [ours, sdk] = await bothSend(action, sample(INPUT_SHAPES[action], '') as object);
    expect(ours.length).toBeGreaterThan(2);
    expect(ours).toEqual(sdk);
  });

  it('PrivateIpAddresses: strings as PrivateIpAddress.N in Unassign, structures as PrivateIpAddresses.N.* in CreateNetworkInterface', async () => {
    const [unassign, unassignSdk] = await bothSend('UnassignPrivateIpAddresses', { NetworkInterfaceId: 'eni-1', PrivateIpAddresses: ['10.0.0.5'] });
    expect(unassign).toEqual(unassignSdk);
    expect(unassign).toContainEqual(['PrivateIpAddress.1', '10.0.0.5']);
    const [create, createSdk] = await bothSend('CreateNetworkInterface', { SubnetId: 's-1', ClientToken: 't', PrivateIpAddresses: [{ PrivateIpAddress: '10.0.0.5', Primary: true }] });
    expect(create).toEqual(createSdk);
    expect(create).toContainEqual(['PrivateIpAddresses.1.PrivateIpAddress', '10.0.0.5']);
  });
});

// AWS's own example responses (../shared/cloud-payloads/aws, see SOURCES.md there) parsed by
// the agent's EC2 Query client and by the AWS SDK's client: the same members, the same error
// facts. Fails with one line when ../shared is absent.
import { describe, expect, it } from '@jest/globals';
import { awsErrorFacts, mapAwsError } from '../../../providers/aws/client/aws-errors.ts';
import { OUTPUT_SHAPES } from '../../../providers/aws/client/ec2-query.ts';
import type { Ec2Action } from '../../../providers/aws/client/ec2-types.ts';
import { readSharedPayload } from '../../support/shared-payloads.ts';
import { project } from '../../unit/aws-client/helpers.ts';
import { useSideBySide } from '../../unit/aws-client/side-by-side.ts';

const CREDS = { accessKeyId: 'AKIDPAYLOAD', secretAccessKey: 's' };
const ANSWERS: Array<[string, Ec2Action]> = [
  ['ec2-assign-private-ip-addresses-count.xml', 'AssignPrivateIpAddresses'],
  ['ec2-assign-private-ip-addresses-ipv4-prefix.ASSEMBLED.xml', 'AssignPrivateIpAddresses'],
  ['ec2-assign-private-ip-addresses.xml', 'AssignPrivateIpAddresses'],
  ['ec2-attach-network-interface.xml', 'AttachNetworkInterface'],
  ['ec2-create-network-interface-secondary-ips.xml', 'CreateNetworkInterface'],
  ['ec2-create-network-interface.xml', 'CreateNetworkInterface'],
  ['ec2-delete-network-interface.xml', 'DeleteNetworkInterface'],
  ['ec2-describe-instance-types-t1micro.xml', 'DescribeInstanceTypes'],
  ['ec2-describe-network-interfaces-ipv4-prefix.ASSEMBLED.xml', 'DescribeNetworkInterfaces'],
  ['ec2-describe-network-interfaces.xml', 'DescribeNetworkInterfaces'],
  ['ec2-describe-subnets-filtered.xml', 'DescribeSubnets'],
  ['ec2-describe-subnets.xml', 'DescribeSubnets'],
  ['ec2-detach-network-interface.xml', 'DetachNetworkInterface'],
  ['ec2-unassign-private-ip-addresses.xml', 'UnassignPrivateIpAddresses'],
];
const ERRORS: Array<[string, number]> = [
  ['ec2-error-docs-example.xml', 400],
  ['ec2-error-insufficient-free-addresses-in-subnet.xml', 400],
  ['ec2-error-no-free-ipv4-or-prefixes.xml', 400],
  ['ec2-error-private-ip-address-limit-exceeded.xml', 400],
  ['ec2-error-real-capture-address-limit.xml', 400],
  ['ec2-error-real-capture-insufficient-capacity.xml', 500],
  ['ec2-error-request-limit-exceeded.xml', 503],
];

const w = useSideBySide(CREDS);

describe('EC2 Query client on AWS example payloads (../shared)', () => {
  for (const [file, action] of ANSWERS) {
    it(`${file}: the members the SDK parses`, async () => {
      w.server.next = { status: 200, body: readSharedPayload('aws', file) };
      const a = await w.ours.send(action, {} as never);
      const b = project(OUTPUT_SHAPES[action], await w.sdk.send(action, {} as never));
      expect(a).toEqual(b);
      if (action.startsWith('Describe') || action === 'CreateNetworkInterface' || action === 'AssignPrivateIpAddresses') {
        expect(JSON.stringify(a).length).toBeGreaterThan(20); // something was read, not an empty shape
      }
    });
  }
  for (const [file, status] of ERRORS) {
    it(`${file} (HTTP ${status}): the same code, message and vpcnet error`, async () => {
      const body = readSharedPayload('aws', file);
      w.server.next = { status, body };
      const facts = async (p: Promise<unknown>): Promise<Record<string, unknown>> => {
        const err = await p.then(() => undefined, (e: unknown) => e);
        expect(err).toBeDefined();
        const f = awsErrorFacts(err);
        return { awsCode: f.awsCode, message: f.message, httpStatus: f.httpStatus, code: mapAwsError(err, 'AssignPrivateIpAddresses').code };
      };
      const a = await facts(w.ours.send('AssignPrivateIpAddresses', { NetworkInterfaceId: 'eni-1' }));
      expect(a).toEqual(await facts(w.sdk.send('AssignPrivateIpAddresses', { NetworkInterfaceId: 'eni-1' })));
      expect(a.awsCode).toBe(/<Code>([^<]+)<\/Code>/.exec(body)?.[1]);
    });
  }
});

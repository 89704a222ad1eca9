// Regenerates ec2-shapes.ts, the Query names and shapes of the EC2 actions vpcnet calls, from
// the service model that @aws-sdk/client-ec2 ships (its operation schemas, read with
// @smithy/core's NormalizedSchema as the SDK's own EC2 Query serializer reads them). Dev time
// only: the agent loads the generated table, never the SDK.
//   node providers/aws/client/ec2-shapes-generate.ts
// Input members: every member of each action's request, named as EC2 Query names them
// (ec2QueryName, else the capitalised xmlName or member name; lists flattened as Name.N).
// Output members: those vpcnet reads (OUTPUT_SELECTION), named by their XML element.
import { writeFileSync } from 'node:fs';
import * as ec2 from '@aws-sdk/client-ec2';
import { NormalizedSchema } from '@smithy/core/schema';
import { EC2_ACTIONS, type Ec2Action } from './ec2-types.ts';
import type { Shape } from './ec2-shape.ts';

/** Output members vpcnet reads, per action: `true` for a leaf or a whole list of scalars, a tree for structures. */
interface Selection {
  [member: string]: true | Selection;
}
const TAG: Selection = { Key: true, Value: true };
const NETWORK_INTERFACE: Selection = {
  NetworkInterfaceId: true,
  SubnetId: true,
  VpcId: true,
  AvailabilityZone: true,
  MacAddress: true,
  PrivateIpAddress: true,
  Status: true,
  Description: true,
  Attachment: { AttachmentId: true, DeviceIndex: true, NetworkCardIndex: true, InstanceId: true, Status: true, DeleteOnTermination: true },
  Groups: { GroupId: true, GroupName: true },
  PrivateIpAddresses: { PrivateIpAddress: true, Primary: true },
  Ipv4Prefixes: { Ipv4Prefix: true },
  TagSet: TAG,
};
export const OUTPUT_SELECTION: Record<Ec2Action, Selection> = {
  AssignPrivateIpAddresses: { NetworkInterfaceId: true, AssignedPrivateIpAddresses: { PrivateIpAddress: true }, AssignedIpv4Prefixes: { Ipv4Prefix: true } },
  AttachNetworkInterface: { AttachmentId: true, NetworkCardIndex: true },
  CreateNetworkInterface: { NetworkInterface: NETWORK_INTERFACE, ClientToken: true },
  CreateTags: {},
  DeleteNetworkInterface: {},
  DescribeInstanceTypes: {
    InstanceTypes: {
      InstanceType: true,
      Hypervisor: true,
      BareMetal: true,
      NetworkInfo: { MaximumNetworkInterfaces: true, Ipv4AddressesPerInterface: true, NetworkCards: { NetworkCardIndex: true, MaximumNetworkInterfaces: true } },
    },
    NextToken: true,
  },
  DescribeNetworkInterfaces: { NetworkInterfaces: NETWORK_INTERFACE, NextToken: true },
  DescribeSubnets: { Subnets: { SubnetId: true, VpcId: true, CidrBlock: true, AvailabilityZone: true, AvailableIpAddressCount: true, Tags: TAG }, NextToken: true },
  DetachNetworkInterface: {},
  ModifyNetworkInterfaceAttribute: {},
  UnassignPrivateIpAddresses: {},
};

function operation(action: Ec2Action): { input: NormalizedSchema; output: NormalizedSchema } {
  const op = (ec2 as unknown as Record<string, unknown>)[`${action}$`];
  // A static operation schema: [kind, namespace, name, traits, input, output].
  if (!Array.isArray(op) || op.length < 6) throw new Error(`@aws-sdk/client-ec2 exports no operation schema ${action}$`);
  return { input: NormalizedSchema.of(op[4] as never), output: NormalizedSchema.of(op[5] as never) };
}

function scalar(ns: NormalizedSchema, where: string): Shape {
  if (ns.isBooleanSchema()) return 'boolean';
  if (ns.isNumericSchema()) return 'number';
  if (ns.isStringSchema() || ns.isTimestampSchema() || ns.isBlobSchema()) return 'string';
  throw new Error(`${where}: unsupported schema ${ns.getName(true) ?? '?'}`);
}

/** The request shape: member -> [Query name, shape], as the SDK's EC2 Query serializer names it. */
function inputShape(ns: NormalizedSchema, where: string, depth = 0): Shape {
  if (depth > 8) throw new Error(`${where}: nested too deep`);
  if (ns.isListSchema()) return { list: inputShape(ns.getValueSchema(), `${where}[]`, depth + 1) };
  if (ns.isStructSchema()) {
    const members: Record<string, [string, Shape]> = {};
    for (const [name, m] of ns.structIterator()) {
      const t = m.getMergedTraits();
      const key = typeof t.ec2QueryName === 'string' ? t.ec2QueryName : ((s: string) => s[0]!.toUpperCase() + s.slice(1))(typeof t.xmlName === 'string' ? t.xmlName : name);
      members[name] = [key, inputShape(m, `${where}.${name}`, depth + 1)];
    }
    return { struct: members };
  }
  if (ns.isMapSchema()) throw new Error(`${where}: maps are not used by EC2 inputs`);
  return scalar(ns, where);
}

/** The response shape of the selected members: member -> [XML element, shape]; lists are <item>s. */
function outputShape(ns: NormalizedSchema, sel: true | Selection, where: string): Shape {
  if (ns.isListSchema()) {
    const item = ns.getValueSchema();
    const el = item.getMergedTraits().xmlName;
    if (el !== undefined && el !== 'item') throw new Error(`${where}: list elements named ${String(el)}, not item`);
    return { list: outputShape(item, sel, `${where}[]`) };
  }
  if (ns.isStructSchema()) {
    if (sel === true) throw new Error(`${where}: a structure needs a member selection`);
    const members: Record<string, [string, Shape]> = {};
    const all = ns.getMemberSchemas();
    for (const [name, inner] of Object.entries(sel)) {
      const m = all[name];
      if (!m) throw new Error(`${where}: the model has no member ${name}`);
      const t = m.getMergedTraits();
      members[name] = [typeof t.xmlName === 'string' ? t.xmlName : name, outputShape(m, inner, `${where}.${name}`)];
    }
    return { struct: members };
  }
  return scalar(ns, where);
}

/** Both tables, built from the installed SDK's model. */
export function buildEc2Shapes(): { input: Record<Ec2Action, Shape>; output: Record<Ec2Action, Shape> } {
  const input = {} as Record<Ec2Action, Shape>;
  const output = {} as Record<Ec2Action, Shape>;
  for (const action of EC2_ACTIONS) {
    const op = operation(action);
    input[action] = inputShape(op.input, action);
    output[action] = op.output.isUnitSchema() ? { struct: {} } : outputShape(op.output, OUTPUT_SELECTION[action], action);
  }
  return { input, output };
}

function render(shapes: ReturnType<typeof buildEc2Shapes>, sdkVersion: string): string {
  const table = (t: Record<string, Shape>): string =>
    Object.entries(t)
      .map(([a, s]) => `  ${a}: ${JSON.stringify(s)},`)
      .join('\n');
  return `// GENERATED by providers/aws/client/ec2-shapes-generate.ts from @aws-sdk/client-ec2 ${sdkVersion}: do not edit.
// Regenerate after changing the actions (ec2-types.ts) or the SDK version:
//   node providers/aws/client/ec2-shapes-generate.ts
// test/unit/aws-client/ec2-shapes.test.ts fails when this file and the SDK's model disagree.
import type { Shape } from './ec2-shape.ts';
import type { Ec2Action } from './ec2-types.ts';

/** Request members of each action: member -> [EC2 Query name, shape]; lists are flattened as Name.N. */
export const INPUT_SHAPES: Record<Ec2Action, Shape> = {
${table(shapes.input)}
};

/** Response members vpcnet reads: member -> [XML element, shape]; lists are <item>s. */
export const OUTPUT_SHAPES: Record<Ec2Action, Shape> = {
${table(shapes.output)}
};
`;
}

export async function sdkVersion(): Promise<string> {
  const { createRequire } = await import('node:module');
  return (createRequire(import.meta.url)('@aws-sdk/client-ec2/package.json') as { version: string }).version;
}

export async function renderEc2Shapes(): Promise<string> {
  return render(buildEc2Shapes(), await sdkVersion());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(new URL('./ec2-shapes.ts', import.meta.url), await renderEc2Shapes());
  console.log(`ec2-shapes.ts: ${EC2_ACTIONS.length} actions`);
}

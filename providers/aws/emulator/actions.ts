// EC2 Query actions: parse the request parameters, run the state operation, render the XML.
import { instanceTypeLimits, INSTANCE_TYPE_LIMITS } from '../limits.ts';
import { instanceTypeFilterValues } from './describe-filters.ts';
import { ec2Error } from './ec2-error.ts';
import { applyFilters } from './filters.ts';
import { formatIpv4 } from './ipv4.ts';
import type { QueryParams } from './query.ts';
import {
  renderAvailabilityZone,
  renderEniAttribute,
  renderEniBody,
  renderInstance,
  renderInstanceType,
  renderSubnet,
  renderTagRow,
  renderVpc,
} from './render.ts';
import { azIdOf, type Ec2State } from './state.ts';
import { PREFIX_LENGTH } from './subnet-space.ts';
import { leaf, list, node, response } from './xml.ts';
import { pageAfter } from '../../kit/emulator/keyset-pages.ts';

export type ActionHandler = (p: QueryParams, state: Ec2State, requestId: string) => string;

interface PageLimits {
  /** Largest MaxResults the action takes (EC2: 1000 for most describes, 100 for instance types). */
  max?: number;
  /** Page size when MaxResults is absent; default: everything. */
  defaultSize?: number;
}

/**
 * One page by MaxResults/NextToken. As on EC2 the token is opaque: it names the last key
 * returned (sealed by the emulator, bound to the action and its other parameters), so items
 * added or removed meanwhile never shift a later page. A changed or foreign token is refused.
 */
function paginate<T>(p: QueryParams, s: Ec2State, items: T[], keyOf: (item: T) => string, limits: PageLimits = {}): { page: T[]; nextToken?: string } {
  const upper = limits.max ?? 1000;
  const max = p.int('MaxResults') ?? limits.defaultSize;
  const tokenText = p.str('NextToken');
  const scope = p.canonical(['NextToken', 'MaxResults', 'Version']);
  let after: string | undefined;
  if (tokenText !== undefined && tokenText !== '') {
    after = s.pageTokens.open(scope, tokenText);
    if (after === undefined) throw ec2Error('InvalidPaginationToken', 'The specified pagination token is not valid or is expired.');
  }
  if (max !== undefined && (max < 5 || max > upper)) throw ec2Error('InvalidParameterValue', `Value (${max}) for parameter maxResults is invalid. Parameter must be between 5 and ${upper}.`);
  // Without MaxResults and a token, everything in the state's own order (as before paging existed).
  if (max === undefined && after === undefined) return { page: items };
  const { page, last } = pageAfter(items, keyOf, after, max ?? Number.MAX_SAFE_INTEGER);
  return last === undefined ? { page } : { page, nextToken: s.pageTokens.seal(scope, last) };
}

/** EC2 refuses MaxResults beside explicit ids for these describes (they return every id named). */
function refuseMaxResultsWithIds(p: QueryParams, idParam: string): string[] {
  const ids = p.list(idParam);
  if (ids.length && p.str('MaxResults') !== undefined) {
    throw ec2Error('InvalidParameterCombination', `The parameter ${idParam}s cannot be used with the parameter maxResults`);
  }
  return ids;
}

const ctxOf = (s: Ec2State): { region: string; ownerId: string } => ({ region: s.region, ownerId: s.ownerId });

export const ACTIONS: Record<string, ActionHandler> = {
  DescribeInstances(p, s, rid) {
    const found = s.describeInstances(refuseMaxResultsWithIds(p, 'InstanceId'), p.filters());
    const { page, nextToken } = paginate(p, s, found, (i) => i.id);
    return response(
      'DescribeInstances',
      rid,
      list('reservationSet', page, (i) =>
        leaf('reservationId', `r-${i.id.slice(2)}`) +
        leaf('ownerId', s.ownerId) +
        node('groupSet') +
        list('instancesSet', [i], (inst) => renderInstance(inst, s.enisOf(inst.id), ctxOf(s))),
      ),
      leaf('nextToken', nextToken),
    );
  },

  DescribeInstanceTypes(p, s, rid) {
    const names = p.list('InstanceType');
    const unknown = names.filter((n) => !instanceTypeLimits(n));
    if (unknown.length) {
      throw ec2Error('InvalidInstanceType', `The following supplied instance types do not exist: [${unknown.join(', ')}]`);
    }
    const all = names.length ? names.map((n) => instanceTypeLimits(n)!) : [...INSTANCE_TYPE_LIMITS.values()];
    // As on EC2: at most 100 types per page, and 100 when MaxResults is not given.
    const { page, nextToken } = paginate(p, s, applyFilters(all, p.filters(), instanceTypeFilterValues), (t) => t.instanceType, { max: 100, defaultSize: 100 });
    return response('DescribeInstanceTypes', rid, list('instanceTypeSet', page, renderInstanceType), leaf('nextToken', nextToken));
  },

  DescribeNetworkInterfaces(p, s, rid) {
    const found = s.describeNetworkInterfaces(refuseMaxResultsWithIds(p, 'NetworkInterfaceId'), p.filters());
    const { page, nextToken } = paginate(p, s, found, (e) => e.id);
    return response(
      'DescribeNetworkInterfaces',
      rid,
      list('networkInterfaceSet', page, (e) => renderEniBody(e, ctxOf(s))),
      leaf('nextToken', nextToken),
    );
  },

  DescribeSubnets(p, s, rid) {
    const found = s.describeSubnets(p.list('SubnetId'), p.filters());
    const { page, nextToken } = paginate(p, s, found, (x) => x.id);
    return response('DescribeSubnets', rid, list('subnetSet', page, (x) => renderSubnet(x, ctxOf(s))), leaf('nextToken', nextToken));
  },

  CreateNetworkInterface(p, s, rid) {
    const primaries = [];
    const secondaries = [];
    for (let i = 1; i <= p.count('PrivateIpAddresses'); i++) {
      const ip = p.required(`PrivateIpAddresses.${i}.PrivateIpAddress`);
      if (p.bool(`PrivateIpAddresses.${i}.Primary`)) primaries.push(ip);
      else secondaries.push(ip);
    }
    const single = p.str('PrivateIpAddress');
    if (single !== undefined) primaries.push(single);
    if (primaries.length > 1) throw ec2Error('InvalidParameterValue', 'Only one primary private address may be specified.');
    const secondaryCount = p.int('SecondaryPrivateIpAddressCount');
    const prefixCount = p.int('Ipv4PrefixCount');
    const clientToken = p.str('ClientToken');
    const description = p.str('Description');
    const eni = s.createNetworkInterface({
      subnetId: p.required('SubnetId'),
      securityGroups: p.list('SecurityGroupId'),
      secondaryIps: secondaries,
      prefixes: p.list('Ipv4Prefix', 'Ipv4Prefix'),
      tags: p.tagSpecifications('network-interface'),
      ...(primaries[0] === undefined ? {} : { primaryIp: primaries[0] }),
      ...(secondaryCount === undefined ? {} : { secondaryCount }),
      ...(prefixCount === undefined ? {} : { prefixCount }),
      ...(clientToken === undefined ? {} : { clientToken, requestFingerprint: p.canonical(['Action', 'Version', 'ClientToken']) }),
      ...(description === undefined ? {} : { description }),
    });
    return response('CreateNetworkInterface', rid, node('networkInterface', renderEniBody(eni, ctxOf(s))), leaf('clientToken', clientToken));
  },

  AttachNetworkInterface(p, s, rid) {
    const deviceIndex = p.int('DeviceIndex');
    if (deviceIndex === undefined) throw ec2Error('MissingParameter', 'The request must contain the parameter DeviceIndex');
    const card = p.int('NetworkCardIndex') ?? 0;
    const id = s.attachNetworkInterface(p.required('NetworkInterfaceId'), p.required('InstanceId'), deviceIndex, card);
    return response('AttachNetworkInterface', rid, leaf('attachmentId', id), leaf('networkCardIndex', card));
  },

  DetachNetworkInterface(p, s, rid) {
    s.detachNetworkInterface(p.required('AttachmentId'), p.bool('Force') ?? false);
    return response('DetachNetworkInterface', rid, leaf('return', true));
  },

  DeleteNetworkInterface(p, s, rid) {
    s.deleteNetworkInterface(p.required('NetworkInterfaceId'));
    return response('DeleteNetworkInterface', rid, leaf('return', true));
  },

  AssignPrivateIpAddresses(p, s, rid) {
    const eniId = p.required('NetworkInterfaceId');
    const count = p.int('SecondaryPrivateIpAddressCount');
    const prefixCount = p.int('Ipv4PrefixCount');
    const got = s.assignPrivateIpAddresses(eniId, {
      ips: p.list('PrivateIpAddress'),
      prefixes: p.list('Ipv4Prefix'),
      ...(count === undefined ? {} : { count }),
      ...(prefixCount === undefined ? {} : { prefixCount }),
    });
    return response(
      'AssignPrivateIpAddresses',
      rid,
      leaf('networkInterfaceId', eniId),
      got.ips.length ? list('assignedPrivateIpAddressesSet', got.ips, (ip) => leaf('privateIpAddress', formatIpv4(ip))) : undefined,
      got.prefixes.length ? list('assignedIpv4PrefixSet', got.prefixes, (b) => leaf('ipv4Prefix', `${formatIpv4(b)}/${PREFIX_LENGTH}`)) : undefined,
      leaf('return', true),
    );
  },

  UnassignPrivateIpAddresses(p, s, rid) {
    s.unassignPrivateIpAddresses(p.required('NetworkInterfaceId'), p.list('PrivateIpAddress'), p.list('Ipv4Prefix'));
    return response('UnassignPrivateIpAddresses', rid, leaf('return', true));
  },

  CreateTags(p, s, rid) {
    const ids = p.list('ResourceId');
    if (!ids.length) throw ec2Error('MissingParameter', 'The request must contain the parameter ResourceId');
    s.createTags(ids, p.tags());
    return response('CreateTags', rid, leaf('return', true));
  },

  DeleteTags(p, s, rid) {
    const ids = p.list('ResourceId');
    if (!ids.length) throw ec2Error('MissingParameter', 'The request must contain the parameter ResourceId');
    const tags: Array<{ key: string; value?: string }> = [];
    for (let i = 1; p.str(`Tag.${i}.Key`) !== undefined; i++) {
      const value = p.str(`Tag.${i}.Value`);
      tags.push({ key: p.str(`Tag.${i}.Key`)!, ...(value === undefined ? {} : { value }) });
    }
    s.deleteTags(ids, tags);
    return response('DeleteTags', rid, leaf('return', true));
  },

  DescribeTags(p, s, rid) {
    const { page, nextToken } = paginate(p, s, s.describeTags(p.filters()), (t) => `${t.resourceId}\u0000${t.resourceType}\u0000${t.key}`);
    return response('DescribeTags', rid, list('tagSet', page, renderTagRow), leaf('nextToken', nextToken));
  },

  DescribeVpcs(p, s, rid) {
    const { page, nextToken } = paginate(p, s, s.describeVpcs(p.list('VpcId'), p.filters()), (v) => v.id);
    return response('DescribeVpcs', rid, list('vpcSet', page, (v) => renderVpc(v, ctxOf(s))), leaf('nextToken', nextToken));
  },

  DescribeAvailabilityZones(p, s, rid) {
    const names = p.list('ZoneName');
    const ids = p.list('ZoneId');
    const zones = s.availabilityZones().map((name) => ({ name, id: azIdOf(name), region: s.region }));
    for (const n of names) {
      if (!zones.some((z) => z.name === n)) throw ec2Error('InvalidParameterValue', `Invalid availability zone: [${n}]`);
    }
    for (const n of ids) {
      if (!zones.some((z) => z.id === n)) throw ec2Error('InvalidParameterValue', `Invalid availability zone ID: [${n}]`);
    }
    const named = zones.filter((z) => (!names.length || names.includes(z.name)) && (!ids.length || ids.includes(z.id)));
    const found = applyFilters(named, p.filters(), (z, name) => {
      switch (name) {
        case 'zone-name':
          return [z.name];
        case 'zone-id':
          return [z.id];
        case 'region-name':
        case 'group-name':
        case 'network-border-group':
          return [z.region];
        case 'state':
          return ['available'];
        case 'zone-type':
          return ['availability-zone'];
        case 'opt-in-status':
          return ['opt-in-not-required'];
        default:
          return undefined;
      }
    });
    return response('DescribeAvailabilityZones', rid, list('availabilityZoneInfo', found, renderAvailabilityZone));
  },

  DescribeNetworkInterfaceAttribute(p, s, rid) {
    const id = p.required('NetworkInterfaceId');
    const attribute = p.required('Attribute');
    if (!ENI_ATTRIBUTES.includes(attribute)) {
      throw ec2Error('InvalidParameterValue', `Value (${attribute}) for parameter attribute is invalid. Valid values: ${ENI_ATTRIBUTES.join(', ')}`);
    }
    const [eni] = s.describeNetworkInterfaces([id], []);
    return response('DescribeNetworkInterfaceAttribute', rid, leaf('networkInterfaceId', id), renderEniAttribute(eni!, attribute, ctxOf(s)));
  },

  ModifyNetworkInterfaceAttribute(p, s, rid) {
    const deleteOnTermination = p.bool('Attachment.DeleteOnTermination');
    const attachmentId = p.str('Attachment.AttachmentId');
    const sourceDestCheck = p.bool('SourceDestCheck.Value');
    const description = p.str('Description.Value');
    s.modifyNetworkInterfaceAttribute(p.required('NetworkInterfaceId'), {
      securityGroups: p.list('SecurityGroupId'),
      ...(deleteOnTermination === undefined ? {} : { deleteOnTermination }),
      ...(attachmentId === undefined ? {} : { attachmentId }),
      ...(sourceDestCheck === undefined ? {} : { sourceDestCheck }),
      ...(description === undefined ? {} : { description }),
    });
    return response('ModifyNetworkInterfaceAttribute', rid, leaf('return', true));
  },
};

const ENI_ATTRIBUTES = ['description', 'groupSet', 'sourceDestCheck', 'attachment', 'associatePublicIpAddress'];

/** A describe call that names ids or filters draws from the (larger) filtered bucket. */
export function isFiltered(p: QueryParams): boolean {
  return ['Filter', 'NetworkInterfaceId', 'SubnetId', 'InstanceId', 'InstanceType', 'VpcId', 'ZoneName', 'ZoneId'].some((n) => p.str(`${n}.1`) !== undefined || p.str(`${n}.1.Name`) !== undefined);
}

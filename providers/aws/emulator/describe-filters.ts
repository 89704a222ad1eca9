// Values of the EC2 describe filters per object type: what `Filter.N.Name` matches against.
import { tagFilterValues, type FilterExtractor } from './filters.ts';
import { formatIpv4 } from './ipv4.ts';
import { attachmentStatus, eniStatus, type Eni, type Instance, type Subnet } from './model.ts';
import { PREFIX_LENGTH } from './subnet-space.ts';

export function instanceFilterValues(i: Instance, name: string): string[] | undefined {
  switch (name) {
    case 'instance-id':
      return [i.id];
    case 'instance-type':
      return [i.limits.instanceType];
    case 'instance-state-name':
      return [i.state];
    case 'subnet-id':
      return [i.subnetId];
    case 'vpc-id':
      return [i.vpcId];
    case 'availability-zone':
      return [i.az];
    default:
      return tagFilterValues(i.tags, name);
  }
}

export function subnetFilterValues(s: Subnet, name: string): string[] | undefined {
  switch (name) {
    case 'subnet-id':
      return [s.id];
    case 'vpc-id':
      return [s.vpcId];
    case 'availability-zone':
      return [s.az];
    case 'availability-zone-id':
      return [s.azId];
    case 'cidr-block':
    case 'cidr':
      return [s.cidr];
    case 'state':
      return ['available'];
    default:
      return tagFilterValues(s.tags, name);
  }
}

export function eniFilterValues(ownerId: string): FilterExtractor<Eni> {
  return (e, name) => {
    switch (name) {
      case 'network-interface-id':
        return [e.id];
      case 'subnet-id':
        return [e.subnetId];
      case 'vpc-id':
        return [e.vpcId];
      case 'availability-zone':
        return [e.az];
      case 'status':
        return [eniStatus(e)];
      case 'description':
        return [e.description];
      case 'mac-address':
        return [e.mac];
      case 'private-ip-address':
      case 'addresses.private-ip-address':
        return [e.primaryIp, ...e.secondaryIps].map(formatIpv4);
      case 'ipv4-prefix.ipv4-prefix':
        return e.prefixes.map((p) => `${formatIpv4(p)}/${PREFIX_LENGTH}`);
      case 'group-id':
        return e.securityGroups;
      case 'owner-id':
        return [ownerId];
      case 'requester-managed':
        return ['false'];
      case 'interface-type':
        return ['interface'];
      case 'attachment.instance-id':
        return e.attachment ? [e.attachment.instanceId] : [];
      case 'attachment.attachment-id':
        return e.attachment ? [e.attachment.id] : [];
      case 'attachment.device-index':
        return e.attachment ? [String(e.attachment.deviceIndex)] : [];
      case 'attachment.status':
        return e.attachment ? [attachmentStatus(e.attachment)] : [];
      case 'attachment.delete-on-termination':
        return e.attachment ? [String(e.attachment.deleteOnTermination)] : [];
      default:
        return tagFilterValues(e.tags, name);
    }
  };
}

// Values of the EC2 describe filters per object type: what `Filter.N.Name` matches against.
import type { InstanceTypeLimits } from '../limits.ts';
import { tagFilterValues, type FilterExtractor } from './filters.ts';
import { formatIpv4 } from './ipv4.ts';
import { attachmentStatus, eniStatus, type Eni, type Instance, type Subnet, type TagRow, type Vpc } from './model.ts';
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
    case 'placement.availability-zone':
      return [i.az];
    case 'image-id':
      return [i.imageId];
    case 'architecture':
      return [i.limits.architecture];
    default:
      return tagFilterValues(i.tags, name);
  }
}

/** Instance filters that need the instance's ENIs. */
export function instanceEniFilterValues(enis: Eni[], name: string): string[] | undefined {
  const primary = enis.find((e) => e.attachment?.deviceIndex === 0);
  switch (name) {
    case 'private-ip-address':
      return primary ? [formatIpv4(primary.primaryIp)] : [];
    case 'network-interface.network-interface-id':
      return enis.map((e) => e.id);
    case 'network-interface.addresses.private-ip-address':
      return enis.flatMap((e) => [e.primaryIp, ...e.secondaryIps].map(formatIpv4));
    case 'source-dest-check':
      return primary ? [String(primary.sourceDestCheck)] : [];
    default:
      return undefined;
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
    case 'ipv4-cidr-block-association.cidr-block':
      return [s.cidr];
    case 'state':
      return ['available'];
    case 'default-for-az':
    case 'map-public-ip-on-launch':
      return [String(s.defaultForAz)];
    case 'available-ip-address-count':
      return [String(s.space.freeCount)];
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
      case 'addresses.primary':
        // Whether the ENI has a primary (always) and a secondary address of the kind asked for.
        return e.secondaryIps.length ? ['true', 'false'] : ['true'];
      case 'source-dest-check':
        return [String(e.sourceDestCheck)];
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

export function vpcFilterValues(ownerId: string): FilterExtractor<Vpc> {
  return (v, name) => {
    switch (name) {
      case 'vpc-id':
        return [v.id];
      case 'cidr':
        return [v.cidrs[0] ?? ''];
      case 'cidr-block-association.cidr-block':
        return v.cidrs;
      case 'cidr-block-association.state':
        return v.cidrs.map(() => 'associated');
      case 'is-default':
        return [String(v.isDefault)];
      case 'state':
        return ['available'];
      case 'owner-id':
        return [ownerId];
      case 'dhcp-options-id':
        return ['default'];
      default:
        return tagFilterValues(v.tags, name);
    }
  };
}

export function tagRowFilterValues(t: TagRow, name: string): string[] | undefined {
  switch (name) {
    case 'resource-id':
      return [t.resourceId];
    case 'resource-type':
      return [t.resourceType];
    case 'key':
      return [t.key];
    case 'value':
      return [t.value];
    default:
      return name.startsWith('tag:') ? (t.key === name.slice(4) ? [t.value] : []) : undefined;
  }
}

export function instanceTypeFilterValues(l: InstanceTypeLimits, name: string): string[] | undefined {
  switch (name) {
    case 'instance-type':
      return [l.instanceType];
    case 'hypervisor':
      return l.hypervisor ? [l.hypervisor] : [];
    case 'bare-metal':
      return [String(l.bareMetal)];
    case 'current-generation':
      return [String(l.currentGeneration)];
    case 'burstable-performance-supported':
      return [String(l.burstable)];
    case 'processor-info.supported-architecture':
      return [l.architecture];
    case 'network-info.maximum-network-interfaces':
      return [String(l.networkCards.reduce((a, b) => a + b, 0))];
    case 'network-info.maximum-network-cards':
      return [String(l.networkCards.length)];
    case 'network-info.ipv4-addresses-per-interface':
      return [String(l.ipv4PerNic)];
    case 'network-info.ipv6-addresses-per-interface':
      return [String(l.ipv6PerNic)];
    case 'network-info.ipv6-supported':
      return ['true'];
    case 'network-info.ena-support':
      return [l.hypervisor === 'nitro' || l.bareMetal ? 'required' : 'unsupported'];
    case 'network-info.efa-supported':
      return ['false'];
    case 'vcpu-info.default-vcpus':
      return l.vcpus === undefined ? [] : [String(l.vcpus)];
    case 'memory-info.size-in-mib':
      return l.memoryMiB === undefined ? [] : [String(l.memoryMiB)];
    case 'supported-usage-class':
      return ['on-demand', 'spot'];
    case 'supported-root-device-type':
      return ['ebs'];
    case 'free-tier-eligible':
      return [String(l.instanceType === 't2.micro' || l.instanceType === 't3.micro')];
    default:
      return undefined;
  }
}

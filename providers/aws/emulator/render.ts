// EC2 objects as Query API XML, with the element names of the EC2 service model
// (botocore locationNames) and the element order of the vendor's sample responses.
import type { InstanceTypeLimits } from '../limits.ts';
import { formatIpv4 } from './ipv4.ts';
import { attachmentStatus, eniStatus, type Eni, type Instance, type Subnet, type TagRow, type Tags, type Vpc } from './model.ts';
import { PREFIX_LENGTH } from './subnet-space.ts';
import { leaf, list, node } from './xml.ts';

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function dnsName(ip: number, region: string): string {
  return privateDnsName(formatIpv4(ip), region);
}

/** EC2's IP-based private DNS name: ip-10-0-0-4.us-west-2.compute.internal (us-east-1: ec2.internal). */
export function privateDnsName(ip: string, region: string): string {
  return `ip-${ip.replace(/\./g, '-')}.${region === 'us-east-1' ? 'ec2' : `${region}.compute`}.internal`;
}

export function renderTags(tags: Tags): string {
  return list('tagSet', [...tags], ([k, v]) => leaf('key', k) + leaf('value', v));
}

function renderGroups(groups: string[]): string {
  return list('groupSet', groups, (g) => leaf('groupId', g) + leaf('groupName', g === 'sg-default' ? 'default' : g));
}

function renderPrivateIps(eni: Eni, region: string): string {
  const all = [eni.primaryIp, ...eni.secondaryIps];
  return list('privateIpAddressesSet', all, (ip) =>
    leaf('privateIpAddress', formatIpv4(ip)) + leaf('privateDnsName', dnsName(ip, region)) + leaf('primary', ip === eni.primaryIp),
  );
}

function renderPrefixes(eni: Eni): string {
  return list('ipv4PrefixSet', eni.prefixes, (p) => leaf('ipv4Prefix', `${formatIpv4(p)}/${PREFIX_LENGTH}`));
}

/** NetworkInterface (DescribeNetworkInterfaces item, CreateNetworkInterface networkInterface). */
export function renderEniBody(eni: Eni, ctx: { region: string; ownerId: string }): string {
  const a = eni.attachment;
  return (
    leaf('networkInterfaceId', eni.id) +
    leaf('subnetId', eni.subnetId) +
    leaf('vpcId', eni.vpcId) +
    leaf('availabilityZone', eni.az) +
    leaf('description', eni.description) +
    leaf('ownerId', ctx.ownerId) +
    leaf('requesterManaged', false) +
    leaf('status', eniStatus(eni)) +
    leaf('macAddress', eni.mac) +
    leaf('privateIpAddress', formatIpv4(eni.primaryIp)) +
    leaf('privateDnsName', dnsName(eni.primaryIp, ctx.region)) +
    leaf('sourceDestCheck', eni.sourceDestCheck) +
    renderGroups(eni.securityGroups) +
    (a
      ? node(
          'attachment',
          leaf('attachmentId', a.id),
          leaf('instanceId', a.instanceId),
          leaf('instanceOwnerId', ctx.ownerId),
          leaf('deviceIndex', a.deviceIndex),
          leaf('networkCardIndex', a.networkCardIndex),
          leaf('status', attachmentStatus(a)),
          leaf('attachTime', isoTime(a.attachTime)),
          leaf('deleteOnTermination', a.deleteOnTermination),
        )
      : '') +
    renderTags(eni.tags) +
    renderPrivateIps(eni, ctx.region) +
    renderPrefixes(eni) +
    node('ipv6AddressesSet') +
    node('ipv6PrefixSet') +
    leaf('interfaceType', 'interface')
  );
}

/** InstanceNetworkInterface (DescribeInstances networkInterfaceSet item). */
function renderInstanceEni(eni: Eni, ctx: { region: string; ownerId: string }): string {
  const a = eni.attachment;
  return (
    leaf('networkInterfaceId', eni.id) +
    leaf('subnetId', eni.subnetId) +
    leaf('vpcId', eni.vpcId) +
    leaf('description', eni.description) +
    leaf('ownerId', ctx.ownerId) +
    leaf('status', eniStatus(eni)) +
    leaf('macAddress', eni.mac) +
    leaf('privateIpAddress', formatIpv4(eni.primaryIp)) +
    leaf('privateDnsName', dnsName(eni.primaryIp, ctx.region)) +
    leaf('sourceDestCheck', eni.sourceDestCheck) +
    renderGroups(eni.securityGroups) +
    (a
      ? node(
          'attachment',
          leaf('attachmentId', a.id),
          leaf('deviceIndex', a.deviceIndex),
          leaf('networkCardIndex', a.networkCardIndex),
          leaf('status', attachmentStatus(a)),
          leaf('attachTime', isoTime(a.attachTime)),
          leaf('deleteOnTermination', a.deleteOnTermination),
        )
      : '') +
    renderPrivateIps(eni, ctx.region) +
    renderPrefixes(eni) +
    node('ipv6AddressesSet') +
    leaf('interfaceType', 'interface')
  );
}

const STATE_CODES = { running: 16, terminated: 48 } as const;

export function renderInstance(i: Instance, enis: Eni[], ctx: { region: string; ownerId: string }): string {
  const primary = enis.find((e) => e.attachment?.deviceIndex === 0);
  const sorted = [...enis].sort((a, b) => (a.attachment?.deviceIndex ?? 0) - (b.attachment?.deviceIndex ?? 0));
  return (
    leaf('instanceId', i.id) +
    leaf('imageId', i.imageId) +
    node('instanceState', leaf('code', STATE_CODES[i.state]), leaf('name', i.state)) +
    leaf('privateDnsName', primary ? dnsName(primary.primaryIp, ctx.region) : '') +
    leaf('dnsName', '') +
    leaf('reason', '') +
    leaf('amiLaunchIndex', 0) +
    node('productCodes') +
    leaf('instanceType', i.limits.instanceType) +
    leaf('launchTime', isoTime(i.launchTime)) +
    node('placement', leaf('availabilityZone', i.az), leaf('groupName', ''), leaf('tenancy', 'default')) +
    node('monitoring', leaf('state', 'disabled')) +
    leaf('subnetId', i.subnetId) +
    leaf('vpcId', i.vpcId) +
    (primary ? leaf('privateIpAddress', formatIpv4(primary.primaryIp)) : '') +
    leaf('sourceDestCheck', primary?.sourceDestCheck ?? true) +
    renderGroups(i.securityGroups) +
    leaf('architecture', i.limits.architecture) +
    leaf('rootDeviceType', 'ebs') +
    leaf('rootDeviceName', '/dev/xvda') +
    node('blockDeviceMapping') +
    leaf('virtualizationType', 'hvm') +
    renderTags(i.tags) +
    // EC2 reports 'xen' here for Nitro instances too.
    leaf('hypervisor', 'xen') +
    list('networkInterfaceSet', sorted, (e) => renderInstanceEni(e, ctx)) +
    leaf('ebsOptimized', false)
  );
}

export function renderSubnet(s: Subnet, ctx: { region: string; ownerId: string }): string {
  return (
    leaf('subnetId', s.id) +
    leaf('subnetArn', `arn:aws:ec2:${ctx.region}:${ctx.ownerId}:subnet/${s.id}`) +
    leaf('state', 'available') +
    leaf('ownerId', ctx.ownerId) +
    leaf('vpcId', s.vpcId) +
    leaf('cidrBlock', s.cidr) +
    node('ipv6CidrBlockAssociationSet') +
    leaf('availableIpAddressCount', s.space.freeCount) +
    leaf('availabilityZone', s.az) +
    leaf('availabilityZoneId', s.azId) +
    leaf('defaultForAz', s.defaultForAz) +
    leaf('mapPublicIpOnLaunch', s.defaultForAz) +
    leaf('assignIpv6AddressOnCreation', false) +
    renderTags(s.tags)
  );
}

export function renderInstanceType(l: InstanceTypeLimits): string {
  const nitro = l.hypervisor === 'nitro' || l.bareMetal;
  const totalNics = l.networkCards.reduce((a, b) => a + b, 0);
  return (
    leaf('autoRecoverySupported', !l.bareMetal) +
    leaf('bareMetal', l.bareMetal) +
    leaf('burstablePerformanceSupported', l.burstable) +
    leaf('currentGeneration', l.currentGeneration) +
    leaf('dedicatedHostsSupported', !l.burstable) +
    node('ebsInfo', leaf('ebsOptimizedSupport', nitro ? 'default' : 'unsupported'), leaf('encryptionSupport', 'supported')) +
    leaf('freeTierEligible', l.instanceType === 't2.micro' || l.instanceType === 't3.micro') +
    leaf('hibernationSupported', false) +
    leaf('hypervisor', l.hypervisor) +
    leaf('instanceStorageSupported', false) +
    leaf('instanceType', l.instanceType) +
    (l.memoryMiB === undefined ? '' : node('memoryInfo', leaf('sizeInMiB', l.memoryMiB))) +
    node(
      'networkInfo',
      leaf('defaultNetworkCardIndex', 0),
      leaf('efaSupported', false),
      leaf('enaSupport', nitro ? 'required' : 'unsupported'),
      leaf('ipv4AddressesPerInterface', l.ipv4PerNic),
      leaf('ipv6AddressesPerInterface', l.ipv6PerNic),
      leaf('ipv6Supported', true),
      leaf('maximumNetworkCards', l.networkCards.length),
      leaf('maximumNetworkInterfaces', totalNics),
      list(
        'networkCards',
        l.networkCards.map((max, idx) => [max, idx] as const),
        ([max, idx]) => leaf('maximumNetworkInterfaces', max) + leaf('networkCardIndex', idx) + leaf('networkPerformance', l.networkPerformance),
      ),
      leaf('networkPerformance', l.networkPerformance),
    ) +
    node('placementGroupInfo', list('supportedStrategies', ['cluster', 'partition', 'spread'], (s) => s)) +
    node('processorInfo', list('supportedArchitectures', [l.architecture], (s) => s)) +
    list('supportedRootDeviceTypes', ['ebs'], (s) => s) +
    list('supportedUsageClasses', ['on-demand', 'spot'], (s) => s) +
    (l.vcpus === undefined
      ? ''
      : node(
          'vCpuInfo',
          leaf('defaultCores', Math.max(1, l.vcpus / 2)),
          leaf('defaultThreadsPerCore', l.vcpus > 1 ? 2 : 1),
          leaf('defaultVCpus', l.vcpus),
        ))
  );
}

export function renderVpc(v: Vpc, ctx: { region: string; ownerId: string }): string {
  return (
    leaf('vpcId', v.id) +
    leaf('ownerId', ctx.ownerId) +
    leaf('state', 'available') +
    leaf('cidrBlock', v.cidrs[0]) +
    list('cidrBlockAssociationSet', v.cidrs, (c) =>
      leaf('cidrBlock', c) + leaf('associationId', `vpc-cidr-assoc-${v.id.slice(4)}${v.cidrs.indexOf(c)}`) + node('cidrBlockState', leaf('state', 'associated')),
    ) +
    node('ipv6CidrBlockAssociationSet') +
    leaf('dhcpOptionsId', 'dopt-00000000') +
    renderTags(v.tags) +
    leaf('instanceTenancy', 'default') +
    leaf('isDefault', v.isDefault)
  );
}

export function renderAvailabilityZone(z: { name: string; id: string; region: string }): string {
  return (
    leaf('zoneName', z.name) +
    leaf('zoneState', 'available') +
    leaf('regionName', z.region) +
    leaf('groupName', z.region) +
    leaf('optInStatus', 'opt-in-not-required') +
    leaf('zoneId', z.id) +
    leaf('zoneType', 'availability-zone') +
    leaf('networkBorderGroup', z.region) +
    node('messageSet')
  );
}

export function renderTagRow(t: TagRow): string {
  return leaf('resourceId', t.resourceId) + leaf('resourceType', t.resourceType) + leaf('key', t.key) + leaf('value', t.value);
}

/** The one attribute DescribeNetworkInterfaceAttribute asked for. */
export function renderEniAttribute(eni: Eni, attribute: string, ctx: { region: string; ownerId: string }): string {
  const a = eni.attachment;
  switch (attribute) {
    case 'description':
      return node('description', leaf('value', eni.description));
    case 'groupSet':
      return renderGroups(eni.securityGroups);
    case 'sourceDestCheck':
      return node('sourceDestCheck', leaf('value', eni.sourceDestCheck));
    case 'associatePublicIpAddress':
      return leaf('associatePublicIpAddress', false);
    default:
      return a
        ? node(
            'attachment',
            leaf('attachmentId', a.id),
            leaf('instanceId', a.instanceId),
            leaf('instanceOwnerId', ctx.ownerId),
            leaf('deviceIndex', a.deviceIndex),
            leaf('networkCardIndex', a.networkCardIndex),
            leaf('status', attachmentStatus(a)),
            leaf('attachTime', isoTime(a.attachTime)),
            leaf('deleteOnTermination', a.deleteOnTermination),
          )
        : '';
  }
}

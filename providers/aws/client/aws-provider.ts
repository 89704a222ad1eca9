// CloudProvider for AWS: identity from IMDSv2, truth from the EC2 API (metadata lags it): the
// node's NICs are described once and then kept from our own calls' answers, with metadata as
// the drift detector that tells when to describe again (nic-view.ts).
// ENI secondary IPs are 'ip' blocks (/32), delegated /28 prefixes are 'prefix' blocks.
import { withUrgency } from '../../kit/urgency.ts';
import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';
import { VpcnetError, isVpcnetError } from '../../../src/errors.ts';
import { noopMetrics } from '../../../src/metrics/metrics.ts';
import { systemClock, type Clock } from '../../../src/util/clock.ts';
import type {
  AssignRequest,
  AttachNicRequest,
  CloudBlock,
  CloudNic,
  CloudProvider,
  LeakedNic,
  LeakedNicCleanup,
  NicLifecycle,
  NodeInfo,
  NodeLimits,
  ReleaseRequest,
  ListNicsOptions,
  SubnetSpaceReport,
} from '../../provider.ts';
import { isAmbiguous } from '../../kit/classify.ts';
import { pollUntil } from '../../kit/poll.ts';
import { DEFAULT_BACKOFF, type BackoffPolicy } from '../../kit/retry.ts';
import { Ec2Api, type CallOptions } from './ec2-api.ts';
import { Ec2QueryClient } from './ec2-query.ts';
import type { Ec2Action, Ec2Ops, NetworkInterface, Subnet, Tag } from './ec2-types.ts';
import { ImdsClient, type ImdsIdentity, type ImdsInterface, type ImdsNicAddresses, type ImdsSnapshot } from './imds.ts';
import { AWS_NIC_MTU } from '../limits.ts';
import { NicView, sameState } from './nic-view.ts';
import { InstanceLimitsCache } from './instance-limits.ts';
import { DEFAULT_SUBNET_TAGS, TAGS, type AwsProviderOptions } from './options.ts';
import { Ec2RateLimiter } from './rate-limiter.ts';
import { chooseSubnet, type SubnetCandidate } from './subnet-select.ts';
import { SubnetUsage } from './subnet-usage.ts';

const DEFAULT_METADATA_ENDPOINT = 'http://169.254.169.254';
const POLL_BACKOFF: BackoffPolicy = { baseMs: 100, capMs: 2000, deadlineMs: 60_000 };
/**
 * Subnet candidates are re-read after this long (and at once when a create finds the subnet
 * full). Subnets and their tags change rarely; free counts between reads are kept from our own
 * creates. A shorter period costs a DescribeSubnets per node per period while NICs are created.
 */
const DEFAULT_SUBNET_CACHE_MS = 6 * 3_600_000;
/** How long metadata is watched for the addresses of a timed-out assign before it is retried (metadata lags EC2 by seconds). */
const AMBIGUOUS_ASSIGN_CHECK_MS = 5000;
/** Attach retries on NotFound for a just-created NIC: 100 ms doubling, about 3 s in all. */
const NEW_NIC_NOT_FOUND_RETRIES = 5;
/**
 * The start-up's interface read stands in for the first listing's read and the first NIC
 * check's (the start-up's reconcile lists NICs right after) if this recent and no call of ours
 * changed the node since: metadata lags the API by seconds, so a read this young tells the same.
 */
const BOOT_READ_REUSE_MS = 2000;

export class AwsProvider implements CloudProvider {
  readonly name = 'aws' as const;
  readonly nicLifecycle: NicLifecycle = { attachNic: (r) => this.attachNic(r), detachNic: (id) => this.detachNic(id) };
  readonly leakedNics: LeakedNicCleanup = { findLeakedNics: (g) => this.findLeakedNics(g), deleteNic: (id) => this.deleteNic(id) };
  private readonly opts: AwsProviderOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly imds: ImdsClient;
  private readonly limitsCache: InstanceLimitsCache;
  private readonly subnetCidrs = new Map<string, string>();
  private ec2: Ec2Api | undefined;
  private identity: Promise<{ node: NodeInfo; limits: NodeLimits }> | undefined;
  private primaryGroups: string[] | undefined;
  private region: string | undefined;
  private identityPending: Promise<ImdsSnapshot> | undefined;
  /** The interfaces read with the identity at start-up, used once by the first listing if still fresh. */
  private bootInterfaces: { at: number; list: ImdsInterface[] } | undefined;
  /** NICs a failed attach created but could not delete (e.g. throttled past the deadline); retried before the next create. */
  private readonly orphans = new Set<string>();
  /** A NIC created for an attach that was throttled, kept for the next attach. */
  private spare: SpareNic | undefined;
  private readonly view: NicView;
  /** Subnet candidates of the node's zone, with when they were read. */
  private subnets: { at: number; key: string; list: SubnetCandidate[] } | undefined;
  /** Used addresses of the subnets where single addresses were placed (fragmentation-aware placement). */
  private readonly subnetUsage: SubnetUsage;

  constructor(opts: AwsProviderOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.logger ?? pino({ level: 'silent' })).child({ component: 'aws-provider' });
    this.random = opts.random ?? Math.random;
    this.imds = new ImdsClient({
      endpoint: (opts.metadataEndpoint ?? DEFAULT_METADATA_ENDPOINT).replace(/\/+$/, ''),
      tokenTtlSeconds: opts.metadataTokenTtlSeconds ?? 21600,
      timeoutMs: opts.timeouts?.metadataMs ?? 2000,
      backoff: { baseMs: 100, capMs: 2000, deadlineMs: 10_000, ...opts.metadataBackoff },
      clock: this.clock,
      random: this.random,
      logger: this.log,
    });
    this.limitsCache = new InstanceLimitsCache((type) => this.call('DescribeInstanceTypes', { InstanceTypes: [type] }));
    this.region = opts.region;
    this.view = new NicView({ clock: this.clock, random: this.random, ...opts.nicState });
    this.subnetUsage = new SubnetUsage({
      describeSubnetNics: (subnetId) => this.describeAll({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }),
      clock: this.clock,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      ...(opts.subnetUsageTtlMs !== undefined ? { ttlMs: opts.subnetUsageTtlMs } : {}),
    });
  }

  /** Free aligned /28s of the subnets this node has read (where it placed single addresses). */
  subnetSpace(): SubnetSpaceReport[] {
    return this.subnetUsage.report();
  }

  /** EC2 calls sent per action (retries included), for the scale benchmark. */
  callCounts(): Record<string, number> {
    return this.ec2?.callCounts() ?? {};
  }

  /** Start-up: urgent (kit/urgency.ts). */
  discover(): Promise<{ node: NodeInfo; limits: NodeLimits }> {
    return withUrgency(true, () => this.discoverNow());
  }

  private async discoverNow(): Promise<{ node: NodeInfo; limits: NodeLimits }> {
    this.identity ??= this.loadIdentity();
    try {
      return await this.identity;
    } catch (err) {
      this.identity = undefined;
      throw err;
    }
  }

  /**
   * The node's NICs. The first call describes them; later calls read metadata and answer from
   * the view (EC2's last listing plus our own calls' answers) unless the view is stale, the
   * drift check says so, or the periodic full check is due (nic-view.ts).
   */
  listNics(opts: ListNicsOptions = {}): Promise<CloudNic[]> {
    return withUrgency(opts.urgent, () => this.listNicsNow());
  }

  private async listNicsNow(): Promise<CloudNic[]> {
    const cached = this.view.get();
    if (cached) {
      const meta = this.bootAddresses() ?? await this.imds.addresses().catch((err: unknown) => {
        this.log.warn({ err: (err as Error).message }, 'metadata unreadable for the NIC check');
        return undefined;
      });
      const d = this.view.decide(meta);
      if (!d.describe) return cached;
      this.log.info({ why: d.why }, 'describing NICs');
      return this.describeNics(meta);
    }
    return (await this.freshNodeFromMetadata()) ?? this.describeNics(undefined);
  }

  /**
   * A node whose metadata shows only its primary NIC with no secondary address and no prefix
   * has nothing to adopt: its view is taken from metadata, saving the boot describe (which 1000
   * nodes booting together would queue on the account's describe bucket). Metadata that shows
   * anything more is confirmed by EC2 first, so no address is ever known from metadata alone.
   */
  private async freshNodeFromMetadata(): Promise<CloudNic[] | undefined> {
    const { node } = await this.discover();
    // The start-up read them a moment ago with the identity: no second round of metadata reads.
    const boot = this.bootInterfaces;
    const fresh = boot && this.clock.now() - boot.at < BOOT_READ_REUSE_MS ? boot.list : undefined;
    const ifaces = fresh ?? (await this.imds.interfaces().catch(() => undefined));
    const only = ifaces?.length === 1 ? ifaces[0] : undefined;
    if (!only || only.deviceNumber !== 0 || only.interfaceId !== node.primaryNicId || only.ipv4Prefixes.length > 0) return undefined;
    if (only.localIpv4s.length !== 1 || only.localIpv4s[0] !== node.primaryIp) return undefined;
    const nic: CloudNic = {
      id: only.interfaceId,
      deviceIndex: 0,
      mac: only.mac,
      subnetId: only.subnetId,
      subnetCidr: only.subnetCidr,
      primaryIp: node.primaryIp,
      securityGroups: only.securityGroupIds,
      blocks: [],
    };
    this.view.set([nic], new Map());
    this.log.info({ nicId: nic.id }, 'fresh node: NICs from metadata, no describe');
    return [{ ...nic, securityGroups: [...nic.securityGroups], blocks: [] }];
  }

  /** The start-up's metadata read as the NIC check's, once and only while it is as good as a new read. */
  private bootAddresses(): ImdsNicAddresses[] | undefined {
    const boot = this.bootInterfaces;
    this.bootInterfaces = undefined;
    if (!boot || this.clock.now() - boot.at >= BOOT_READ_REUSE_MS) return undefined;
    return boot.list.map((i) => ({ mac: i.mac, localIpv4s: [...i.localIpv4s], ipv4Prefixes: [...i.ipv4Prefixes] }));
  }

  private async describeNics(meta: Awaited<ReturnType<ImdsClient['addresses']>> | undefined): Promise<CloudNic[]> {
    const { node } = await this.discover();
    const enis = await this.describeAll({ Filters: [{ Name: 'attachment.instance-id', Values: [node.instanceId] }] });
    const ours = enis.filter((e) => {
      const status = e.Attachment?.Status;
      if (status === 'detaching' || status === 'detached') return false;
      // Pods use network card 0 only; maxNics counts that card's NICs.
      if ((e.Attachment?.NetworkCardIndex ?? 0) !== 0) return false;
      // The primary NIC always counts; others tagged no_manage belong to someone else.
      return e.Attachment?.DeviceIndex === 0 || tagsOf(e.TagSet)[TAGS.noManage] !== 'true';
    });
    await this.learnSubnetCidrs(ours.map((e) => e.SubnetId ?? ''));
    const nics = ours.map((e) => this.toNic(e)).sort((a, b) => a.deviceIndex - b.deviceIndex);
    const attachments = new Map(ours.flatMap((e) => (e.NetworkInterfaceId && e.Attachment?.AttachmentId ? [[e.NetworkInterfaceId, e.Attachment.AttachmentId] as const] : [])));
    this.view.set(nics, attachments, meta === undefined || sameState(nics, meta));
    return nics.map((n) => ({ ...n, blocks: n.blocks.map((b) => ({ ...b })) }));
  }

  attachNic(req: AttachNicRequest): Promise<CloudNic> {
    return withUrgency(req.urgent, () => this.attachNicNow(req));
  }

  private async attachNicNow(req: AttachNicRequest): Promise<CloudNic> {
    const { node } = await this.discover();
    if (req.blockKind === 'range') throw rangeUnsupported();
    await this.deleteOrphans();
    const reused = await this.attachSpare(node, req);
    if (reused) return reused;
    const subnet = await this.pickSubnet(node, req.subnetId);
    const groups = req.securityGroups ?? this.opts.securityGroups ?? (await this.primarySecurityGroups(node));
    const count = req.blockCount ?? 0;
    const created = await this.createNic({
      SubnetId: subnet.id,
      Groups: groups,
      Description: `vpcnet NIC of ${node.instanceId} (cluster ${this.opts.clusterName})`,
      ClientToken: randomUUID(),
      ...(count > 0 && req.blockKind === 'prefix' ? { Ipv4PrefixCount: count } : {}),
      ...(count > 0 && req.blockKind !== 'prefix' ? { SecondaryPrivateIpAddressCount: count } : {}),
      TagSpecifications: [{ ResourceType: 'network-interface', Tags: this.nicTags(node) }],
    });
    const eni = created.NetworkInterface;
    if (!eni?.NetworkInterfaceId) throw new VpcnetError('INTERNAL', 'EC2 CreateNetworkInterface returned no network interface');
    this.subnetCidrs.set(subnet.id, subnet.cidr);
    // Keep the cached free count roughly true between describes, so our own NICs spread over the candidates.
    subnet.availableIps -= 1 + count * (req.blockKind === 'prefix' ? 16 : 1);
    return this.attachCreated(eni, node, req, { subnetId: subnet.id, groups });
  }

  /** CreateNetworkInterface; a full subnet drops the cached subnets, so the next try re-reads free counts. */
  private async createNic(input: Ec2Ops['CreateNetworkInterface'][0]): Promise<Ec2Ops['CreateNetworkInterface'][1]> {
    try {
      return await this.call('CreateNetworkInterface', input);
    } catch (err) {
      if (isVpcnetError(err, 'SUBNET_FULL')) this.subnets = undefined;
      throw err;
    }
  }

  /** Attaches a NIC we created; undoes the create on failure, except a throttled attach (below). */
  private async attachCreated(eni: NetworkInterface, node: NodeInfo, req: AttachNicRequest, origin: SpareNic['origin']): Promise<CloudNic> {
    const nicId = eni.NetworkInterfaceId as string;
    let attachmentId: string | undefined;
    try {
      attachmentId = await this.attach(nicId, node.instanceId, req.deviceIndex);
      if (attachmentId) {
        await this.call('ModifyNetworkInterfaceAttribute', {
          NetworkInterfaceId: nicId,
          Attachment: { AttachmentId: attachmentId, DeleteOnTermination: true },
        });
      }
      await this.waitForMetadata(nicId, (eni.MacAddress ?? '').toLowerCase(), 'attached');
    } catch (err) {
      // Throttled: the account's network-interface bucket is empty. Deleting the fresh NIC would
      // spend more of it for nothing; keep it and attach it on the next try instead.
      if (!attachmentId && isVpcnetError(err, 'CLOUD_THROTTLED')) {
        this.spare = { nicId, origin, blockKind: req.blockKind };
        this.log.info({ nicId }, 'attach throttled; keeping the new NIC for the next attach');
        throw err;
      }
      await this.undoCreate(nicId, attachmentId, err);
      throw err;
    }
    const nic = { ...this.toNic(eni), deviceIndex: req.deviceIndex };
    this.view.addNic(nic, attachmentId);
    return nic;
  }

  /**
   * Attaches the NIC a throttled attach left, when it fits the request. It is described first:
   * the throttled call may have been preceded by one whose answer was lost. Left unused, the
   * leaked-NIC sweep deletes it after its grace period.
   */
  private async attachSpare(node: NodeInfo, req: AttachNicRequest): Promise<CloudNic | undefined> {
    const spare = this.spare;
    if (!spare) return undefined;
    this.spare = undefined;
    const fits =
      (req.subnetId === undefined || req.subnetId === spare.origin.subnetId) &&
      (req.securityGroups === undefined || sameSet(req.securityGroups, spare.origin.groups)) &&
      (req.blockKind ?? 'ip') === (spare.blockKind ?? 'ip');
    const eni = await this.describeOne(spare.nicId);
    if (!eni) return undefined;
    const att = eni.Attachment;
    if (att?.InstanceId === node.instanceId && att.AttachmentId && att.Status !== 'detached' && att.Status !== 'detaching') {
      // The lost earlier try attached it after all: adopt it where it is.
      await this.call('ModifyNetworkInterfaceAttribute', {
        NetworkInterfaceId: spare.nicId,
        Attachment: { AttachmentId: att.AttachmentId, DeleteOnTermination: true },
      });
      const nic = { ...this.toNic(eni), deviceIndex: att.DeviceIndex ?? req.deviceIndex };
      this.view.addNic(nic, att.AttachmentId);
      return nic;
    }
    if (!fits || eni.Status !== 'available') {
      if (eni.Status === 'available') this.orphans.add(spare.nicId);
      return undefined;
    }
    this.log.info({ nicId: spare.nicId }, 'attaching the NIC a throttled attach left');
    return this.attachCreated(eni, node, req, spare.origin);
  }

  /** AttachNetworkInterface; a retry that finds the NIC already attached here by the lost first try counts as done. */
  private async attach(nicId: string, instanceId: string, deviceIndex: number): Promise<string | undefined> {
    try {
      return await this.attachVisible(nicId, instanceId, deviceIndex);
    } catch (err) {
      if (!(isVpcnetError(err, 'CLOUD_CONFLICT') && Number(err.details.attempts) > 1)) throw err;
      const att = (await this.describeOne(nicId))?.Attachment;
      if (att?.AttachmentId && att.InstanceId === instanceId && att.DeviceIndex === deviceIndex) return att.AttachmentId;
      throw err;
    }
  }

  /** EC2 may not know a NIC created a moment ago (eventual consistency): NotFound is retried briefly. */
  private async attachVisible(nicId: string, instanceId: string, deviceIndex: number): Promise<string | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await this.call('AttachNetworkInterface', { NetworkInterfaceId: nicId, InstanceId: instanceId, DeviceIndex: deviceIndex });
        return out.AttachmentId;
      } catch (err) {
        if (!isVpcnetError(err, 'CLOUD_NOT_FOUND') || attempt >= NEW_NIC_NOT_FOUND_RETRIES) throw err;
        await this.clock.sleep(POLL_BACKOFF.baseMs * 2 ** attempt);
      }
    }
  }

  async detachNic(nicId: string): Promise<void> {
    const { node } = await this.discover();
    // Known from the view (described or attached by us): no describe needed.
    const known = this.view.get()?.find((n) => n.id === nicId);
    const knownAttachment = this.view.attachmentOf(nicId);
    if (known && knownAttachment && known.deviceIndex > 0) {
      await this.detachAttachment(knownAttachment);
      await this.waitForMetadata(nicId, known.mac, 'detached');
      this.view.removeNic(nicId);
      return this.deleteDetached(nicId);
    }
    const eni = await this.describeOne(nicId);
    // Not found may be describe lag for a young NIC: the delete decides (NotFound is done, InUse fails).
    if (!eni) return this.deleteNic(nicId);
    const att = eni.Attachment;
    if (att && att.Status !== 'detached') {
      if (att.InstanceId && att.InstanceId !== node.instanceId) {
        throw new VpcnetError('CLOUD_CONFLICT', `NIC ${nicId} is attached to ${att.InstanceId}, not to this node`, {
          details: { nicId, instanceId: att.InstanceId },
        });
      }
      if (att.DeviceIndex === 0) {
        throw new VpcnetError('CLOUD_BAD_REQUEST', `NIC ${nicId} is the primary NIC and cannot be detached`, { details: { nicId } });
      }
      if (att.Status !== 'detaching' && att.AttachmentId) await this.detachAttachment(att.AttachmentId);
      await this.waitForMetadata(nicId, (eni.MacAddress ?? '').toLowerCase(), 'detached');
    }
    this.view.removeNic(nicId);
    await this.deleteDetached(nicId);
  }

  private async detachAttachment(attachmentId: string): Promise<void> {
    try {
      await this.call('DetachNetworkInterface', { AttachmentId: attachmentId });
    } catch (err) {
      if (!isVpcnetError(err, 'CLOUD_NOT_FOUND')) throw err;
    }
  }

  /**
   * Deletes a NIC whose MAC has left metadata. EC2 may still see it detaching for a moment
   * (InUse): retried with backoff, as AWS's VPC CNI does, instead of describe polling.
   */
  private async deleteDetached(nicId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.deleteNic(nicId);
      } catch (err) {
        if (!isVpcnetError(err, 'CLOUD_CONFLICT') || attempt >= NEW_NIC_NOT_FOUND_RETRIES) throw err;
        await this.clock.sleep(Math.min(POLL_BACKOFF.capMs, 500 * 2 ** attempt));
      }
    }
  }

  assign(req: AssignRequest): Promise<CloudBlock[]> {
    return withUrgency(req.urgent, () => this.assignNow(req));
  }

  private async assignNow(req: AssignRequest): Promise<CloudBlock[]> {
    if (req.kind === 'range') throw rangeUnsupported();
    if (req.count <= 0) return [];
    const nic = this.view.get()?.find((n) => n.id === req.nicId);
    const named = req.kind === 'ip' ? await this.namedAddresses(nic, req.count) : undefined;
    const ask = (addresses: string[] | undefined): Promise<Ec2Ops['AssignPrivateIpAddresses'][1]> =>
      this.call(
        'AssignPrivateIpAddresses',
        {
          NetworkInterfaceId: req.nicId,
          ...(req.kind === 'prefix' ? { Ipv4PrefixCount: req.count } : addresses ? { PrivateIpAddresses: addresses } : { SecondaryPrivateIpAddressCount: req.count }),
        },
        { settleAmbiguous: () => this.assignLanded(req, nic) },
      );
    const out = await ask(named).catch((err: unknown) => {
      // A named address someone else took since our read (InvalidIPAddress.InUse): let EC2 pick.
      if (!named || !nic || !isVpcnetError(err, 'CLOUD_CONFLICT')) throw err;
      this.subnetUsage.forget(nic.subnetId);
      return ask(undefined);
    });
    const blocks: CloudBlock[] =
      req.kind === 'prefix'
        ? (out.AssignedIpv4Prefixes ?? []).flatMap((p) => (p.Ipv4Prefix ? [{ kind: 'prefix' as const, cidr: p.Ipv4Prefix }] : []))
        : (out.AssignedPrivateIpAddresses ?? []).flatMap((a) => (a.PrivateIpAddress ? [{ kind: 'ip' as const, cidr: `${a.PrivateIpAddress}/32` }] : []));
    this.view.addBlocks(req.nicId, blocks);
    return blocks;
  }

  /**
   * Single addresses to name in an assign so that free aligned /28s survive, while prefix
   * delegation is on (the subnet's /28s matter then); undefined lets EC2 pick. A failed read of
   * the subnet is no reason to fail the assign.
   */
  private async namedAddresses(nic: CloudNic | undefined, count: number): Promise<string[] | undefined> {
    if (!nic || this.opts.prefixDelegation === false || this.opts.singlePlacement === 'any') return undefined;
    return this.subnetUsage.choose(nic.subnetId, nic.subnetCidr, count).catch((err: unknown) => {
      this.log.warn({ subnetId: nic.subnetId, err: (err as Error).message }, 'subnet not readable for placement; EC2 picks the addresses');
      return undefined;
    });
  }

  /**
   * After a timed-out (or 5xx) assign: did EC2 admit it? AssignPrivateIpAddresses has no client
   * token, so a blind retry of an admitted call assigns a second batch (and spends a second
   * token of a 5/s account bucket). Metadata is read first (local, no EC2 call; it lags the API
   * by seconds, so it is read a few times); only when it shows new addresses of the kind asked
   * for is the NIC described once, and EC2's answer, never metadata's, becomes the result.
   */
  private async assignLanded(req: AssignRequest, nic: CloudNic | undefined): Promise<Ec2Ops['AssignPrivateIpAddresses'][1] | undefined> {
    if (!nic?.mac) return undefined;
    const known = new Set(nic.blocks.map((b) => b.cidr));
    const fresh = (cidrs: string[]): boolean => cidrs.some((c) => !known.has(c));
    const seen = await pollUntil({
      clock: this.clock,
      poll: async () => {
        const meta = (await this.imds.addresses().catch(() => undefined))?.find((m) => m.mac === nic.mac);
        if (!meta) return false;
        return req.kind === 'prefix' ? fresh(meta.ipv4Prefixes) : fresh(meta.localIpv4s.filter((ip) => ip !== nic.primaryIp).map((ip) => `${ip}/32`));
      },
      done: (landed) => landed,
      interval: { baseMs: 250, capMs: 1000 },
      deadlineMs: AMBIGUOUS_ASSIGN_CHECK_MS,
      onTimeout: () => new VpcnetError('CLOUD_TIMEOUT', 'assign not seen in metadata'),
    }).then(
      () => true,
      () => false,
    );
    if (!seen) return undefined;
    const eni = await this.describeOne(req.nicId).catch(() => undefined);
    if (!eni) return undefined;
    const added = this.toNic(eni).blocks.filter((b) => b.kind === req.kind && !known.has(b.cidr));
    if (added.length === 0) return undefined;
    this.log.info({ nicId: req.nicId, kind: req.kind, blocks: added.length }, 'ambiguous assign had landed (seen in metadata, confirmed by EC2): not repeated');
    return req.kind === 'prefix'
      ? { AssignedIpv4Prefixes: added.map((b) => ({ Ipv4Prefix: b.cidr })) }
      : { AssignedPrivateIpAddresses: added.map((b) => ({ PrivateIpAddress: b.cidr.replace(/\/32$/, '') })) };
  }

  async release(req: ReleaseRequest): Promise<void> {
    if (req.blocks.length === 0) return;
    try {
      await this.unassign(req.nicId, req.blocks);
      this.view.removeBlocks(req.nicId, req.blocks.map((b) => b.cidr));
    } catch (err) {
      if (isVpcnetError(err, 'CLOUD_NOT_FOUND')) {
        this.view.removeNic(req.nicId); // the NIC is gone, and its blocks with it
        return;
      }
      if (!isVpcnetError(err, 'CLOUD_BAD_REQUEST')) throw err;
      // Some blocks were already gone: release what the NIC still holds.
      const eni = await this.describeOne(req.nicId);
      if (!eni) return;
      const held = new Set(this.toNic(eni).blocks.map((b) => b.cidr));
      const rest = req.blocks.filter((b) => held.has(b.cidr));
      if (rest.length === 0) return this.view.removeBlocks(req.nicId, req.blocks.map((b) => b.cidr));
      if (rest.length === req.blocks.length) throw err;
      await this.unassign(req.nicId, rest);
      this.view.removeBlocks(req.nicId, req.blocks.map((b) => b.cidr));
    }
  }

  async findLeakedNics(graceMs: number): Promise<LeakedNic[]> {
    const now = this.clock.now();
    const enis = await this.describeAll({
      MaxResults: 1000,
      Filters: [
        { Name: 'status', Values: ['available'] },
        { Name: `tag:${TAGS.cluster}`, Values: [this.opts.clusterName] },
      ],
    });
    const leaked: LeakedNic[] = [];
    const untimed: string[] = [];
    for (const e of enis) {
      if (!e.NetworkInterfaceId) continue;
      const tags = tagsOf(e.TagSet);
      if (tags[TAGS.cluster] !== this.opts.clusterName) continue;
      const since = Date.parse(tags[TAGS.createdAt] ?? '');
      if (Number.isNaN(since)) untimed.push(e.NetworkInterfaceId);
      else if (now - since >= graceMs) leaked.push({ id: e.NetworkInterfaceId, subnetId: e.SubnetId ?? '', since });
    }
    if (untimed.length > 0) {
      // No creation time: start the grace period now, so the next scan can decide.
      await this
        .call('CreateTags', { Resources: untimed, Tags: [{ Key: TAGS.createdAt, Value: new Date(now).toISOString() }] })
        .catch((err: unknown) => this.log.warn({ nics: untimed, err: (err as Error).message }, 'could not tag untimed NICs'));
    }
    return leaked.sort((a, b) => a.since - b.since);
  }

  async deleteNic(nicId: string): Promise<void> {
    try {
      await this.call('DeleteNetworkInterface', { NetworkInterfaceId: nicId });
    } catch (err) {
      if (isVpcnetError(err, 'CLOUD_NOT_FOUND')) return;
      throw err;
    }
  }

  // ---- internals ----

  private async call<A extends Ec2Action>(action: A, input: Ec2Ops[A][0], opts?: CallOptions<Ec2Ops[A][1]>): Promise<Ec2Ops[A][1]> {
    // A change of ours makes the start-up's metadata read out of date.
    if (!action.startsWith('Describe')) this.bootInterfaces = undefined;
    try {
      return await (await this.api()).call(action, input, opts);
    } catch (err) {
      // The cloud may have acted: the next listing asks EC2 rather than trusting the view.
      if (!action.startsWith('Describe') && isVpcnetError(err) && isAmbiguous(err.code)) this.view.markStale();
      throw err;
    }
  }

  /** The EC2 call layer; built on first use, once the region is known (from options or metadata). */
  private async api(): Promise<Ec2Api> {
    if (!this.ec2) {
      this.region ??= (await this.imdsIdentity()).region;
      this.ec2 ??= new Ec2Api({
        transport: this.opts.transport ?? this.queryClient(this.region),
        limiter: this.opts.rateLimiter ?? new Ec2RateLimiter(this.opts.throttleMaxIntervalMs ? { maxIntervalMs: this.opts.throttleMaxIntervalMs } : {}, this.clock),
        clock: this.clock,
        metrics: this.opts.metrics ?? noopMetrics,
        logger: this.log,
        backoff: { ...DEFAULT_BACKOFF, ...this.opts.backoff },
        random: this.random,
      });
    }
    return this.ec2;
  }

  private async imdsIdentity(): Promise<ImdsIdentity> {
    return (await this.imdsSnapshot()).identity;
  }

  /** Identity and interfaces in one read (imds.ts snapshot); the identity part is kept. */
  private imdsSnapshot(): Promise<ImdsSnapshot> {
    const pending = (this.identityPending ??= this.imds.snapshot().then((snap) => {
      this.bootInterfaces = { at: this.clock.now(), list: snap.interfaces };
      return snap;
    }));
    pending.catch(() => {
      if (this.identityPending === pending) this.identityPending = undefined;
    });
    return pending;
  }

  /** The agent's EC2 client (ec2-query.ts); tests may pass another transport. */
  private queryClient(region: string): Ec2QueryClient {
    return new Ec2QueryClient({
      region,
      ...(this.opts.ec2Endpoint ? { endpoint: this.opts.ec2Endpoint } : {}),
      ...(this.opts.credentials ? { credentials: this.opts.credentials } : {}),
      requestTimeoutMs: this.opts.timeouts?.requestMs ?? 10_000,
      connectTimeoutMs: this.opts.timeouts?.connectMs ?? 3000,
    });
  }

  private async loadIdentity(): Promise<{ node: NodeInfo; limits: NodeLimits }> {
    const { identity: id, interfaces } = await this.imdsSnapshot();
    const primary = interfaces.find((i) => i.mac === id.primaryMac) ?? (await this.imds.interfaceOf(id.primaryMac));
    this.region ??= id.region;
    this.subnetCidrs.set(primary.subnetId, primary.subnetCidr);
    // New NICs default to the primary NIC's groups: metadata has them, no describe needed.
    if (primary.securityGroupIds.length > 0) this.primaryGroups = primary.securityGroupIds;
    const limits = await this.limitsCache.limitsFor(id.instanceType, this.opts.prefixDelegation ?? true);
    const node: NodeInfo = {
      provider: 'aws',
      instanceId: id.instanceId,
      instanceType: id.instanceType,
      region: this.region ?? id.region,
      zone: id.zone,
      networkId: primary.vpcId,
      vpcCidrs: primary.vpcCidrs.length > 0 ? primary.vpcCidrs : [primary.subnetCidr],
      primaryNicId: primary.interfaceId,
      primaryIp: id.primaryIp,
      primarySubnetId: primary.subnetId,
      mtu: AWS_NIC_MTU,
    };
    this.log.info({ instanceId: node.instanceId, instanceType: node.instanceType, zone: node.zone, limits }, 'node discovered');
    return { node, limits };
  }

  private nicTags(node: NodeInfo): Tag[] {
    const tags: Record<string, string> = {
      ...this.opts.extraTags,
      [TAGS.cluster]: this.opts.clusterName,
      [TAGS.awsCluster]: this.opts.clusterName,
      [TAGS.instanceId]: node.instanceId,
      [TAGS.createdAt]: new Date(this.clock.now()).toISOString(),
    };
    return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  }

  /**
   * The subnet for a new NIC. Candidates of the zone are described once and cached
   * (`subnetCacheMs`); a create that finds its subnet full drops the cache (createNic).
   */
  private async pickSubnet(node: NodeInfo, requested: string | undefined): Promise<SubnetCandidate> {
    const ids = requested ? [requested] : this.opts.subnetIds;
    const key = `${node.zone}|${(ids ?? []).join(',')}`;
    const now = this.clock.now();
    if (!this.subnets || this.subnets.key !== key || now - this.subnets.at >= (this.opts.subnetCacheMs ?? DEFAULT_SUBNET_CACHE_MS)) {
      const out = await this.call('DescribeSubnets', {
        Filters: [
          { Name: 'vpc-id', Values: [node.networkId] },
          { Name: 'availability-zone', Values: [node.zone] },
          ...(ids && ids.length > 0 ? [{ Name: 'subnet-id', Values: ids }] : []),
        ],
      });
      this.subnets = { at: now, key, list: (out.Subnets ?? []).map(toCandidate) };
    }
    const candidates = this.subnets.list;
    for (const c of candidates) this.subnetCidrs.set(c.id, c.cidr);
    return chooseSubnet(candidates, {
      zone: node.zone,
      vpcId: node.networkId,
      ...(ids && ids.length > 0 ? { subnetIds: ids } : {}),
      tags: this.opts.subnetTags ?? DEFAULT_SUBNET_TAGS,
    });
  }

  private async primarySecurityGroups(node: NodeInfo): Promise<string[]> {
    if (!this.primaryGroups) {
      const eni = await this.describeOne(node.primaryNicId);
      this.primaryGroups = (eni?.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : []));
    }
    return this.primaryGroups;
  }

  private async learnSubnetCidrs(subnetIds: string[]): Promise<void> {
    const unknown = [...new Set(subnetIds)].filter((id) => id && !this.subnetCidrs.has(id));
    if (unknown.length === 0) return;
    const out = await this.call('DescribeSubnets', { SubnetIds: unknown });
    for (const s of out.Subnets ?? []) if (s.SubnetId && s.CidrBlock) this.subnetCidrs.set(s.SubnetId, s.CidrBlock);
  }

  private toNic(e: NetworkInterface): CloudNic {
    const blocks: CloudBlock[] = [];
    for (const a of e.PrivateIpAddresses ?? []) {
      if (!a.Primary && a.PrivateIpAddress) blocks.push({ kind: 'ip', cidr: `${a.PrivateIpAddress}/32` });
    }
    for (const p of e.Ipv4Prefixes ?? []) if (p.Ipv4Prefix) blocks.push({ kind: 'prefix', cidr: p.Ipv4Prefix });
    const subnetId = e.SubnetId ?? '';
    return {
      id: e.NetworkInterfaceId ?? '',
      deviceIndex: e.Attachment?.DeviceIndex ?? -1,
      mac: (e.MacAddress ?? '').toLowerCase(),
      subnetId,
      subnetCidr: this.subnetCidrs.get(subnetId) ?? '',
      primaryIp: e.PrivateIpAddress ?? '',
      securityGroups: (e.Groups ?? []).flatMap((g) => (g.GroupId ? [g.GroupId] : [])),
      blocks,
    };
  }

  private async unassign(nicId: string, blocks: CloudBlock[]): Promise<void> {
    const ips = blocks.filter((b) => b.kind === 'ip').map((b) => b.cidr.replace(/\/32$/, ''));
    const prefixes = blocks.filter((b) => b.kind === 'prefix').map((b) => b.cidr);
    if (ips.length > 0) await this.call('UnassignPrivateIpAddresses', { NetworkInterfaceId: nicId, PrivateIpAddresses: ips });
    if (prefixes.length > 0) await this.call('UnassignPrivateIpAddresses', { NetworkInterfaceId: nicId, Ipv4Prefixes: prefixes });
  }

  private async describeOne(nicId: string): Promise<NetworkInterface | undefined> {
    try {
      const out = await this.call('DescribeNetworkInterfaces', { NetworkInterfaceIds: [nicId] });
      return out.NetworkInterfaces?.find((n) => n.NetworkInterfaceId === nicId);
    } catch (err) {
      if (isVpcnetError(err, 'CLOUD_NOT_FOUND')) return undefined;
      throw err;
    }
  }

  private async describeAll(input: { Filters: { Name: string; Values: string[] }[]; MaxResults?: number }): Promise<NetworkInterface[]> {
    const all: NetworkInterface[] = [];
    let token: string | undefined;
    do {
      const out = await this.call('DescribeNetworkInterfaces', { ...input, ...(token ? { NextToken: token } : {}) });
      all.push(...(out.NetworkInterfaces ?? []));
      token = out.NextToken;
    } while (token);
    return all;
  }

  /**
   * Waits until the node's metadata shows the NIC (attached) or no longer shows it (detached):
   * local reads instead of EC2 describes (metadata shows a NIC once its attachment completed).
   */
  private async waitForMetadata(nicId: string, mac: string, want: 'attached' | 'detached'): Promise<void> {
    if (!mac) return this.waitForStatus(nicId, want === 'attached' ? 'attached' : 'available');
    await pollUntil({
      clock: this.clock,
      poll: () => this.imds.macs().catch(() => undefined),
      done: (macs) => macs !== undefined && macs.includes(mac) === (want === 'attached'),
      interval: POLL_BACKOFF,
      deadlineMs: this.opts.timeouts?.attachWaitMs ?? POLL_BACKOFF.deadlineMs,
      onTimeout: () =>
        new VpcnetError('CLOUD_TIMEOUT', `NIC ${nicId} did not show as ${want} in instance metadata in time`, { details: { nicId, want, mac } }),
    });
  }

  /** Polls with backoff until the NIC's attachment reaches `want` ('available': detached). */
  private async waitForStatus(nicId: string, want: 'attached' | 'available'): Promise<void> {
    const statusOf = (eni: NetworkInterface | undefined): string | undefined => (want === 'attached' ? eni?.Attachment?.Status : eni?.Status);
    await pollUntil({
      clock: this.clock,
      poll: () => this.describeOne(nicId),
      // A NIC missing while we wait to see it detached is describe lag (EC2 is eventually consistent).
      done: (eni) => (!eni && want === 'available') || statusOf(eni) === want,
      interval: POLL_BACKOFF,
      deadlineMs: this.opts.timeouts?.attachWaitMs ?? POLL_BACKOFF.deadlineMs,
      onTimeout: (eni) => {
        const status = statusOf(eni);
        return new VpcnetError('CLOUD_TIMEOUT', `NIC ${nicId} did not become ${want} in time (last status ${status ?? 'not visible'})`, {
          details: { nicId, want, status },
        });
      },
    });
  }

  /** Deletes a NIC we just created after a failed attach. If that fails too, the NIC's tags let leak clean-up find it. */
  private async undoCreate(nicId: string, attachmentId: string | undefined, cause: unknown): Promise<void> {
    try {
      // After a 5xx or a timeout the attach may have happened anyway: ask EC2.
      if (!attachmentId && isVpcnetError(cause) && isAmbiguous(cause.code)) {
        attachmentId = (await this.describeOne(nicId))?.Attachment?.AttachmentId;
      }
      if (attachmentId) {
        await this.call('DetachNetworkInterface', { AttachmentId: attachmentId, Force: true });
        await this.waitForStatus(nicId, 'available');
      }
      await this.deleteNic(nicId);
    } catch (err) {
      this.orphans.add(nicId);
      this.log.warn(
        { nicId, cause: (cause as Error).message, err: (err as Error).message },
        'could not delete NIC after a failed attach; retrying before the next attach',
      );
    }
  }

  /** Deletes NICs left by failed attaches. One still in use was attached after all: reconcile adopts it. */
  private async deleteOrphans(): Promise<void> {
    for (const nicId of [...this.orphans]) {
      try {
        await this.deleteNic(nicId);
        this.orphans.delete(nicId);
      } catch (err) {
        if (isVpcnetError(err, 'CLOUD_CONFLICT')) {
          this.orphans.delete(nicId);
          continue;
        }
        this.log.warn({ nicId, err: (err as Error).message }, 'could not delete NIC left by a failed attach');
        return;
      }
    }
  }
}

interface SpareNic {
  nicId: string;
  origin: { subnetId: string; groups: string[] };
  blockKind: AttachNicRequest['blockKind'];
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function tagsOf(tags: Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key) out[t.Key] = t.Value ?? '';
  return out;
}

function toCandidate(s: Subnet): SubnetCandidate {
  return {
    id: s.SubnetId ?? '',
    cidr: s.CidrBlock ?? '',
    zone: s.AvailabilityZone ?? '',
    vpcId: s.VpcId ?? '',
    availableIps: s.AvailableIpAddressCount ?? 0,
    tags: tagsOf(s.Tags),
  };
}

function rangeUnsupported(): VpcnetError {
  return new VpcnetError('CLOUD_BAD_REQUEST', "AWS has no 'range' blocks: use 'ip' or 'prefix'", { details: { provider: 'aws' } });
}

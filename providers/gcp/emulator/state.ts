// The emulated Compute Engine project: networks, subnetworks with secondary ranges, instances
// with their NICs (alias IP ranges, per-NIC fingerprints), routes and operations. Mutations
// are validated when the call arrives (errors the API answers at once) and applied when their
// operation reaches DONE (errors the API reports inside the operation).
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { formatCidr, intToIp, parseCidr, tryParseCidr, tryParseIpv4 } from '../../../src/util/ip.ts';
import type { Clock } from '../../../src/util/clock.ts';
import { GceApiError, invalid, notFound, required, type OperationError } from './gce-error.ts';
import { sameFingerprint } from './fingerprint.ts';
import { RangeSpace } from './range-space.ts';

export const API_BASE = 'https://www.googleapis.com/compute/v1';

export interface SecondaryRange {
  rangeName: string;
  ipCidrRange: string;
  space: RangeSpace;
}

export interface Subnet {
  id: string;
  name: string;
  region: string;
  network: string;
  ipCidrRange: string;
  gatewayAddress: string;
  primary: RangeSpace;
  secondary: SecondaryRange[];
  creationTimestamp: string;
}

export interface AliasRange {
  ipCidrRange: string;
  subnetworkRangeName?: string;
}

export interface Nic {
  name: string;
  network: string;
  subnet: Subnet;
  networkIP: string;
  mac: string;
  mtu: number;
  aliasIpRanges: AliasRange[];
  fingerprint: string;
  externalIp?: string;
}

export interface Instance {
  id: string;
  name: string;
  zone: string;
  machineType: string;
  canIpForward: boolean;
  status: 'RUNNING' | 'TERMINATED';
  nics: Nic[];
  /** Network tags (instance.tags.items; the metadata server's instance/tags). */
  tags: string[];
  creationTimestamp: string;
}

export interface Route {
  id: string;
  name: string;
  network: string;
  destRange: string;
  priority: number;
  nextHopInstance?: string;
  nextHopIp?: string;
  description?: string;
  tags: string[];
  creationTimestamp: string;
}

export type OperationStatus = 'PENDING' | 'RUNNING' | 'DONE';

export interface Operation {
  id: string;
  name: string;
  zone?: string;
  operationType: string;
  targetLink: string;
  targetId?: string;
  insertTime: string;
  startTime?: string;
  endTime?: string;
  status: OperationStatus;
  error?: OperationError;
  /** Emulated ms at which it turns RUNNING and DONE. */
  runningAt: number;
  doneAt: number;
  /** Applies the change at DONE; returns an error to report inside the operation instead. */
  apply?: () => OperationError | undefined;
}

export type ChangeEvent =
  | { type: 'alias'; instance: string; nic: string; ranges: AliasRange[] }
  | { type: 'route-added' | 'route-removed'; route: string; destRange: string; nextHopInstance?: string }
  | { type: 'instance-added' | 'instance-removed' | 'instance-changed'; instance: string };

export interface StateOptions {
  clock: Clock;
  project: string;
  projectNumber: string;
  /** Operations take this long from insert to DONE (emulated ms). */
  operationDelayMs: number;
  /** Alias IP ranges one NIC may carry. */
  aliasRangesPerNic: number;
  seed: number;
}

const NAME_RE = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export class GceState {
  readonly project: string;
  readonly projectNumber: string;
  readonly events = new EventEmitter();
  readonly networks = new Map<string, { id: string; name: string; creationTimestamp: string }>();
  readonly subnets = new Map<string, Subnet>();
  readonly instances = new Map<string, Instance>();
  readonly routes = new Map<string, Route>();
  /** Zones the project sees: three per region of a subnetwork (as GCE has at least), plus every instance's. */
  readonly zones = new Set<string>();
  readonly operations = new Map<string, Operation>();
  /** Bumped on every visible change (metadata ETags, the lab's fabric). */
  version = 0;
  private readonly opts: StateOptions;
  private closing = new AbortController();
  private counter = 0;

  constructor(opts: StateOptions) {
    this.opts = opts;
    this.project = opts.project;
    this.projectNumber = opts.projectNumber;
    this.events.setMaxListeners(0);
  }

  get aliasRangesPerNic(): number {
    return this.opts.aliasRangesPerNic;
  }

  /** A 19-digit decimal id (beyond float precision, as GCE's are). */
  nextId(): string {
    this.counter++;
    const h = createHash('sha256').update(`${this.opts.seed}:${this.counter}`).digest();
    return (BigInt(`0x${h.subarray(0, 8).toString('hex')}`) % 9000000000000000000n + 1000000000000000000n).toString();
  }

  private fingerprint(): string {
    this.counter++;
    return createHash('sha256').update(`fp:${this.opts.seed}:${this.counter}`).digest().subarray(0, 8).toString('base64');
  }

  private stamp(): string {
    return new Date(this.opts.clock.now()).toISOString();
  }

  private touch(ev?: ChangeEvent): void {
    this.version++;
    if (ev) this.events.emit('change', ev);
  }

  // ---- set-up (scenario, admin) -----------------------------------------------------------

  createNetwork(name: string): void {
    if (!this.networks.has(name)) this.networks.set(name, { id: this.nextId(), name, creationTimestamp: this.stamp() });
    this.touch();
  }

  createSubnet(input: { name: string; region: string; network: string; ipCidrRange: string; secondaryIpRanges?: { rangeName: string; ipCidrRange: string }[] }): Subnet {
    if (!this.networks.has(input.network)) this.createNetwork(input.network);
    const key = `${input.region}/${input.name}`;
    if (this.subnets.has(key)) throw new GceApiError(409, 'alreadyExists', `The resource '${this.subnetPath(input.region, input.name)}' already exists`);
    const net = parseCidr(input.ipCidrRange);
    const secondary = (input.secondaryIpRanges ?? []).map((r) => ({ rangeName: r.rangeName, ipCidrRange: r.ipCidrRange, space: new RangeSpace(r.ipCidrRange) }));
    // GCE reserves the network, gateway, second-to-last and broadcast addresses of the primary range
    const subnet: Subnet = {
      id: this.nextId(),
      name: input.name,
      region: input.region,
      network: input.network,
      ipCidrRange: input.ipCidrRange,
      gatewayAddress: intToIp(net.base + 1),
      primary: new RangeSpace(input.ipCidrRange, { low: 2, high: 2 }),
      secondary,
      creationTimestamp: this.stamp(),
    };
    this.subnets.set(key, subnet);
    for (const z of ['a', 'b', 'c']) this.zones.add(`${input.region}-${z}`);
    this.touch();
    return subnet;
  }

  createInstance(input: { name: string; zone: string; machineType: string; subnet: string; canIpForward?: boolean; mtu?: number; aliasIpRanges?: AliasRange[]; tags?: string[] }): Instance {
    const key = `${input.zone}/${input.name}`;
    if (!NAME_RE.test(input.name)) throw invalid('resource.name', input.name, 'Must be a match of regex \'[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?\'');
    if (this.instances.has(key)) throw new GceApiError(409, 'alreadyExists', `The resource '${this.instancePath(input.zone, input.name)}' already exists`);
    const region = regionOf(input.zone);
    const subnet = this.subnets.get(`${region}/${input.subnet}`);
    if (!subnet) throw notFound(this.subnetPath(region, input.subnet));
    const id = this.nextId();
    const ip = subnet.primary.firstFreeAddress(`instance:${key}`);
    if (!ip) throw new GceApiError(400, 'ipSpaceExhausted', `IP space of '${this.subnetPath(region, subnet.name)}' is exhausted`);
    const n = tryParseIpv4(ip) ?? 0;
    const nic: Nic = {
      name: 'nic0',
      network: subnet.network,
      subnet,
      networkIP: ip,
      mac: `42:01:${[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`,
      mtu: input.mtu ?? 1460,
      aliasIpRanges: [],
      fingerprint: this.fingerprint(),
    };
    const inst: Instance = {
      id,
      name: input.name,
      zone: input.zone,
      machineType: input.machineType,
      canIpForward: input.canIpForward ?? false,
      status: 'RUNNING',
      nics: [nic],
      tags: Array.isArray(input.tags) ? input.tags.filter((t): t is string => typeof t === 'string') : [],
      creationTimestamp: this.stamp(),
    };
    for (const r of input.aliasIpRanges ?? []) {
      const err = this.claimAlias(inst, nic, r);
      if (err) throw new GceApiError(400, 'invalid', err.message);
    }
    this.instances.set(key, inst);
    this.zones.add(input.zone);
    this.touch({ type: 'instance-added', instance: input.name });
    if (nic.aliasIpRanges.length) this.touch({ type: 'alias', instance: inst.name, nic: nic.name, ranges: nic.aliasIpRanges });
    return inst;
  }

  /** Deletes an instance: its addresses and alias ranges return to their ranges; its routes stay (as on GCE). */
  deleteInstance(zone: string, name: string): void {
    const key = `${zone}/${name}`;
    const inst = this.instances.get(key);
    if (!inst) throw notFound(this.instancePath(zone, name));
    for (const nic of inst.nics) {
      nic.subnet.primary.release(`${nic.networkIP}/32`);
      for (const r of nic.aliasIpRanges) this.spaceOf(nic.subnet, r.subnetworkRangeName)?.release(r.ipCidrRange);
    }
    this.instances.delete(key);
    this.touch({ type: 'instance-removed', instance: name });
  }

  setCanIpForward(zone: string, name: string, value: boolean): void {
    this.instance(zone, name).canIpForward = value;
    this.touch({ type: 'instance-changed', instance: name });
  }

  // ---- lookups ----------------------------------------------------------------------------

  instance(zone: string, name: string): Instance {
    const inst = this.instances.get(`${zone}/${name}`);
    if (!inst) throw notFound(this.instancePath(zone, name));
    return inst;
  }

  /** Finds an instance by its URL or partial path (…/zones/Z/instances/N). */
  instanceByLink(link: string): Instance | undefined {
    const m = /zones\/([^/]+)\/instances\/([^/]+)$/.exec(link);
    return m ? this.instances.get(`${m[1]}/${m[2]}`) : undefined;
  }

  /** Regions: those of the zones. */
  regions(): string[] {
    return [...new Set([...this.zones].map(regionOf))].sort();
  }

  /** Throws GCE's 404 for a zone the project does not have. */
  zone(name: string): string {
    if (!this.zones.has(name)) throw notFound(`projects/${this.project}/zones/${name}`);
    return name;
  }

  region(name: string): string {
    if (!this.regions().includes(name)) throw notFound(`projects/${this.project}/regions/${name}`);
    return name;
  }

  /** A stable id for a name (zones, regions), not drawn from the counter so ids of other resources stay as they were. */
  stableId(what: string): string {
    const h = createHash('sha256').update(`${this.opts.seed}:${what}`).digest();
    return (BigInt(`0x${h.subarray(0, 8).toString('hex')}`) % 9000000000000000000n + 1000000000000000000n).toString();
  }

  subnet(region: string, name: string): Subnet {
    const s = this.subnets.get(`${region}/${name}`);
    if (!s) throw notFound(this.subnetPath(region, name));
    return s;
  }

  instancePath(zone: string, name: string): string {
    return `projects/${this.project}/zones/${zone}/instances/${name}`;
  }

  subnetPath(region: string, name: string): string {
    return `projects/${this.project}/regions/${region}/subnetworks/${name}`;
  }

  networkLink(name: string): string {
    return `${API_BASE}/projects/${this.project}/global/networks/${name}`;
  }

  private spaceOf(subnet: Subnet, rangeName: string | undefined): RangeSpace | undefined {
    if (rangeName === undefined) return subnet.primary;
    return subnet.secondary.find((r) => r.rangeName === rangeName)?.space;
  }

  // ---- instances.updateNetworkInterface ---------------------------------------------------

  /**
   * Validates an updateNetworkInterface body now and returns the change to apply at DONE.
   * Only the alias IP ranges may change here; the fingerprint must be present and current.
   */
  prepareUpdateNic(zone: string, name: string, nicName: string, body: Record<string, unknown>): () => OperationError | undefined {
    const inst = this.instance(zone, name);
    const nic = inst.nics.find((n) => n.name === nicName);
    if (!nic) throw invalid('networkInterface', nicName, 'The network interface does not exist.');
    const allowed = new Set(['name', 'fingerprint', 'aliasIpRanges', 'kind']);
    for (const [k, v] of Object.entries(body)) {
      if (allowed.has(k)) continue;
      const same = (k === 'network' && typeof v === 'string' && v.endsWith(`/networks/${nic.network}`)) || (k === 'networkIP' && v === nic.networkIP);
      if (!same) throw invalid(`resource.${k}`, '', 'Updating this field is not supported.');
    }
    if (body.name !== undefined && body.name !== nicName) throw invalid('resource.name', String(body.name), 'Must match the networkInterface parameter.');
    if (typeof body.fingerprint !== 'string' || body.fingerprint === '') throw required('resource.fingerprint');
    if (!sameFingerprint(body.fingerprint, nic.fingerprint)) {
      throw new GceApiError(412, 'conditionNotMet', 'Supplied fingerprint does not match current metadata fingerprint.');
    }
    const raw = body.aliasIpRanges;
    if (raw === undefined) return () => undefined; // PATCH: an absent list changes nothing
    if (!Array.isArray(raw)) throw invalid('resource.aliasIpRanges', String(raw), 'Expected a list.');
    if (raw.length > this.opts.aliasRangesPerNic) {
      throw invalid('resource.aliasIpRanges', String(raw.length), `A network interface can have at most ${this.opts.aliasRangesPerNic} alias IP ranges.`);
    }
    const wanted: AliasRange[] = raw.map((r: unknown, i: number) => {
      const o = (r ?? {}) as Record<string, unknown>;
      if (typeof o.ipCidrRange !== 'string' || o.ipCidrRange === '') throw required(`resource.aliasIpRanges[${i}].ipCidrRange`);
      const rangeName = typeof o.subnetworkRangeName === 'string' && o.subnetworkRangeName !== '' ? o.subnetworkRangeName : undefined;
      if (rangeName !== undefined && !nic.subnet.secondary.some((s) => s.rangeName === rangeName)) {
        throw invalid(`resource.aliasIpRanges[${i}].subnetworkRangeName`, rangeName, `Secondary range '${rangeName}' does not exist in subnetwork '${this.subnetPath(nic.subnet.region, nic.subnet.name)}'.`);
      }
      const text = o.ipCidrRange;
      const spec = /^\/\d{1,2}$/.test(text) ? text : tryParseCidr(text) ? normalizeCidr(text) : undefined;
      if (spec === undefined) throw invalid(`resource.aliasIpRanges[${i}].ipCidrRange`, text, 'Must be an IP address, a netmask such as /24 or a CIDR range.');
      return { ipCidrRange: spec, ...(rangeName !== undefined ? { subnetworkRangeName: rangeName } : {}) };
    });
    // a range that stays must be asked for exactly; changing one in place is refused (remove, then add)
    const expectedFp = nic.fingerprint;
    return () => {
      if (nic.fingerprint !== expectedFp) {
        return { code: 'CONDITION_NOT_MET', message: 'The network interface changed while the operation was pending.', httpStatus: 412 };
      }
      return this.applyAliases(inst, nic, wanted);
    };
  }

  private applyAliases(inst: Instance, nic: Nic, wanted: AliasRange[]): OperationError | undefined {
    const keep = nic.aliasIpRanges.filter((cur) => wanted.some((w) => w.ipCidrRange === cur.ipCidrRange && w.subnetworkRangeName === cur.subnetworkRangeName));
    const drop = nic.aliasIpRanges.filter((cur) => !keep.includes(cur));
    const add = wanted.filter((w) => !keep.some((k) => k.ipCidrRange === w.ipCidrRange && k.subnetworkRangeName === w.subnetworkRangeName));
    const claimed: AliasRange[] = [];
    const trial: Nic = { ...nic, aliasIpRanges: [...keep] };
    for (const w of add) {
      const err = this.claimAlias(inst, trial, w);
      if (err) {
        for (const c of claimed) this.spaceOf(nic.subnet, c.subnetworkRangeName)?.release(c.ipCidrRange);
        return err; // nothing half-applied
      }
      claimed.push(trial.aliasIpRanges[trial.aliasIpRanges.length - 1] as AliasRange);
    }
    for (const d of drop) this.spaceOf(nic.subnet, d.subnetworkRangeName)?.release(d.ipCidrRange);
    nic.aliasIpRanges = trial.aliasIpRanges;
    nic.fingerprint = this.fingerprint();
    this.touch({ type: 'alias', instance: inst.name, nic: nic.name, ranges: nic.aliasIpRanges });
    return undefined;
  }

  /** Takes an alias range for the NIC (netmask: the lowest aligned free block; CIDR: exactly it). */
  private claimAlias(inst: Instance, nic: Nic, r: AliasRange): OperationError | undefined {
    const space = this.spaceOf(nic.subnet, r.subnetworkRangeName);
    const rangeLabel = r.subnetworkRangeName ? `secondary range '${r.subnetworkRangeName}'` : `the primary range of '${nic.subnet.name}'`;
    if (!space) return { code: 'INVALID_FIELD_VALUE', message: `Secondary range '${r.subnetworkRangeName ?? ''}' does not exist.`, httpStatus: 400 };
    const owner = `alias:${inst.zone}/${inst.name}/${nic.name}`;
    if (r.ipCidrRange.startsWith('/')) {
      const got = space.allocate(Number(r.ipCidrRange.slice(1)), owner);
      if (!got) return { code: 'IP_SPACE_EXHAUSTED', message: `IP space of ${rangeLabel} is exhausted: no free aligned ${r.ipCidrRange} block.`, httpStatus: 400 };
      nic.aliasIpRanges.push({ ...r, ipCidrRange: got });
      return undefined;
    }
    if (!space.contains(r.ipCidrRange)) return { code: 'INVALID_FIELD_VALUE', message: `The alias IP range '${r.ipCidrRange}' is not in ${rangeLabel}.`, httpStatus: 400 };
    if (!space.reserve(r.ipCidrRange, owner)) {
      return { code: 'IP_IN_USE_BY_ANOTHER_RESOURCE', message: `The alias IP range '${r.ipCidrRange}' overlaps a range in use by ${space.holderOf(r.ipCidrRange) ?? 'another resource'}.`, httpStatus: 400 };
    }
    nic.aliasIpRanges.push({ ...r });
    return undefined;
  }

  // ---- routes -----------------------------------------------------------------------------

  prepareRouteInsert(body: Record<string, unknown>): { name: string; apply: () => OperationError | undefined } {
    const name = body.name;
    if (typeof name !== 'string' || name === '') throw required('resource.name');
    if (!NAME_RE.test(name)) throw invalid('resource.name', name, "Must be a match of regex '[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?'");
    if (typeof body.network !== 'string' || body.network === '') throw required('resource.network');
    const netName = /networks\/([^/]+)$/.exec(body.network)?.[1] ?? body.network;
    if (!this.networks.has(netName)) throw notFound(`projects/${this.project}/global/networks/${netName}`);
    if (typeof body.destRange !== 'string') throw required('resource.destRange');
    const dest = body.destRange;
    if (!tryParseCidr(dest)) throw invalid('resource.destRange', dest, 'Must be a CIDR range without host bits.');
    const priority = body.priority === undefined ? 1000 : Number(body.priority);
    if (!Number.isInteger(priority) || priority < 0 || priority > 65535) throw invalid('resource.priority', String(body.priority), 'Must be between 0 and 65535.');
    const hop = typeof body.nextHopInstance === 'string' ? body.nextHopInstance : undefined;
    const hopIp = typeof body.nextHopIp === 'string' ? body.nextHopIp : undefined;
    if (!hop && !hopIp) throw required('resource.nextHop*');
    let hopLink: string | undefined;
    if (hop) {
      const inst = this.instanceByLink(hop);
      if (!inst) throw notFound(hop.replace(/^https?:\/\/[^/]+\/compute\/v1\//, ''));
      if (inst.nics[0]?.network !== netName) throw invalid('resource.nextHopInstance', hop, 'The instance is not in the route\'s network.');
      hopLink = `${API_BASE}/${this.instancePath(inst.zone, inst.name)}`;
    }
    for (const s of this.subnets.values()) {
      if (s.network === netName && overlaps(s.ipCidrRange, dest)) {
        throw invalid('resource.destRange', dest, `It overlaps the subnetwork range ${s.ipCidrRange} of '${s.name}'.`);
      }
    }
    const tags = Array.isArray(body.tags) ? body.tags.filter((t): t is string => typeof t === 'string') : [];
    const description = typeof body.description === 'string' ? body.description : undefined;
    return {
      name,
      apply: () => {
        if (this.routes.has(name)) {
          return { code: 'RESOURCE_ALREADY_EXISTS', message: `The resource 'projects/${this.project}/global/routes/${name}' already exists`, httpStatus: 409 };
        }
        const route: Route = {
          id: this.nextId(),
          name,
          network: netName,
          destRange: normalizeCidr(dest),
          priority,
          ...(hopLink ? { nextHopInstance: hopLink } : {}),
          ...(hopIp ? { nextHopIp: hopIp } : {}),
          ...(description !== undefined ? { description } : {}),
          tags,
          creationTimestamp: this.stamp(),
        };
        this.routes.set(name, route);
        this.touch({ type: 'route-added', route: name, destRange: route.destRange, ...(hopLink ? { nextHopInstance: hopLink } : {}) });
        return undefined;
      },
    };
  }

  prepareRouteDelete(name: string): () => OperationError | undefined {
    if (!this.routes.has(name)) throw notFound(`projects/${this.project}/global/routes/${name}`);
    return () => {
      const r = this.routes.get(name);
      if (!r) return { code: 'RESOURCE_NOT_FOUND', message: `The resource 'projects/${this.project}/global/routes/${name}' was not found`, httpStatus: 404 };
      this.routes.delete(name);
      this.touch({ type: 'route-removed', route: name, destRange: r.destRange, ...(r.nextHopInstance ? { nextHopInstance: r.nextHopInstance } : {}) });
      return undefined;
    };
  }

  // ---- operations -------------------------------------------------------------------------

  startOperation(input: { zone?: string; operationType: string; targetLink: string; targetId?: string; apply: () => OperationError | undefined; forcedError?: OperationError }): Operation {
    const now = this.opts.clock.now();
    const id = this.nextId();
    const name = `operation-${now}-${id.slice(-12)}`;
    const delay = this.opts.operationDelayMs;
    const op: Operation = {
      id,
      name,
      ...(input.zone ? { zone: input.zone } : {}),
      operationType: input.operationType,
      targetLink: input.targetLink,
      ...(input.targetId ? { targetId: input.targetId } : {}),
      insertTime: new Date(now).toISOString(),
      startTime: new Date(now).toISOString(),
      status: 'PENDING',
      runningAt: now + delay / 3,
      doneAt: now + delay,
      apply: input.forcedError ? () => input.forcedError : input.apply,
    };
    this.operations.set(name, op);
    this.advance(op);
    if (op.status !== 'DONE') void this.finishOnTime(op);
    return op;
  }

  /** GCE completes an operation whether or not anyone polls it: so does its own timer here. */
  private async finishOnTime(op: Operation): Promise<void> {
    const { clock } = this.opts;
    try {
      // a timer may wake a little before the clock reads doneAt: sleep again for the rest
      while (this.advance(op).status !== 'DONE') await clock.sleep(Math.max(1, op.doneAt - clock.now()), this.closing.signal);
    } catch {
      // closed: the emulator stopped, pending operations stay pending
    }
  }

  /** Stops the operation timers (the emulator is shutting down). */
  close(): void {
    this.closing.abort();
    this.closing = new AbortController();
  }

  /** Moves an operation along by the clock; the change is applied when it reaches DONE. */
  advance(op: Operation): Operation {
    const now = this.opts.clock.now();
    if (op.status === 'PENDING' && now >= op.runningAt) op.status = 'RUNNING';
    if (op.status !== 'DONE' && now >= op.doneAt) {
      const err = op.apply?.();
      delete op.apply;
      op.status = 'DONE';
      op.endTime = new Date(now).toISOString();
      if (err) op.error = err;
    }
    return op;
  }

  /** Completes every operation that is due (a wait, a list, the lab's fabric). */
  settle(): void {
    for (const op of this.operations.values()) if (op.status !== 'DONE') this.advance(op);
  }

  getOperation(name: string, zone: string | undefined): Operation {
    const op = this.operations.get(name);
    if (!op || (op.zone ?? undefined) !== zone) {
      throw notFound(zone ? `projects/${this.project}/zones/${zone}/operations/${name}` : `projects/${this.project}/global/operations/${name}`);
    }
    return this.advance(op);
  }
}

export function regionOf(zone: string): string {
  return zone.replace(/-[a-z]$/, '');
}

function normalizeCidr(text: string): string {
  const c = parseCidr(text.includes('/') ? text : `${text}/32`);
  return formatCidr(c.base, c.prefixLength);
}

function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.base < y.base + y.size && y.base < x.base + x.size;
}

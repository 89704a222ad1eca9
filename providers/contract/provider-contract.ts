// The contract every CloudProvider passes: the fake (each of its cloud shapes), the AWS
// emulator through the real SDK, later Azure and GCE. It runs by capability: a setup states
// what its provider claims (NIC lifecycle, leaked-NIC clean-up, block kinds), the suite checks
// the claim against what the provider exposes, then runs the parts for what it claims.
import { ipToInt } from '../../src/util/ip.ts';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { VpcnetError, type ErrorCode } from '../../src/errors.ts';
import { blockUsable, capabilitiesOf, type BlockKind, type CloudBlock, type CloudNic, type CloudProvider, type NicLifecycle, type LeakedNicCleanup } from '../provider.ts';

/** Reaches into the backing cloud where the provider API alone cannot arrange a case. */
export interface ContractBackdoor {
  /** Uses up every free address of the subnet, so the next assign there fails SUBNET_FULL. */
  exhaustSubnet(subnetId: string): Promise<void>;
  /** Creates an unattached NIC in the node's primary subnet, `ageMs` old; `ours` = tagged for this cluster (leakedNics providers). */
  createLooseNic?(opts: { ours: boolean; ageMs: number }): Promise<string>;
  /** Whether the NIC exists in the cloud at all, attached or not. */
  nicExists(nicId: string): Promise<boolean>;
}

export interface ContractSetup {
  provider: CloudProvider;
  backdoor: ContractBackdoor;
  cleanup(): Promise<void>;
}

/** What the node set up claims; the suite fails when the provider exposes something else. */
export interface ContractClaims {
  nicLifecycle: boolean;
  leakedNics: boolean;
  /** Block kinds the node offers (order free). */
  blockKinds: BlockKind[];
  /** The MTU discover must report. */
  mtu: number;
  /** Blocks carry provider data (ref, state). */
  blockRefs?: boolean;
}

export interface ContractOptions {
  claims: ContractClaims;
  /** max pods the node's instance type must yield, when the setup knows it. */
  expectedMaxPods?: number;
}

export function runProviderContract(name: string, setup: () => Promise<ContractSetup>, opts: ContractOptions): void {
  const claims = opts.claims;
  const has = (k: BlockKind): boolean => claims.blockKinds.includes(k);
  describe(`CloudProvider contract: ${name}`, () => {
    let env: ContractSetup;
    let p: CloudProvider;

    beforeEach(async () => {
      env = await setup();
      p = env.provider;
    });
    afterEach(async () => {
      await env?.cleanup();
    });

    it('claims exactly the capabilities it exposes', async () => {
      const { limits } = await p.discover();
      const caps = capabilitiesOf(p, limits);
      expect({ nicLifecycle: caps.nicLifecycle, leakedNics: caps.leakedNics }).toEqual({ nicLifecycle: claims.nicLifecycle, leakedNics: claims.leakedNics });
      expect([...limits.blockKinds].sort()).toEqual([...claims.blockKinds].sort());
    });

    it('discover returns the node identity, the MTU and limits with the max pods expected', async () => {
      const { node, limits } = await p.discover();
      expect(node.provider).toBe(p.name);
      for (const v of [node.instanceId, node.instanceType, node.region, node.zone, node.networkId, node.primaryNicId, node.primaryIp, node.primarySubnetId]) {
        expect(typeof v === 'string' && v.length > 0).toBe(true);
      }
      expect(node.mtu).toBe(claims.mtu);
      expect(node.vpcCidrs.length).toBeGreaterThan(0);
      expect(limits.maxNics).toBeGreaterThanOrEqual(1);
      expect(limits.addressesPerNic).toBeGreaterThanOrEqual(1);
      expect(limits.maxPods).toBeGreaterThan(0);
      if (has('prefix') || has('range')) expect(limits.prefixLength).toBeGreaterThan(0);
      if (opts.expectedMaxPods !== undefined) expect(limits.maxPods).toBe(opts.expectedMaxPods);
      // discover is stable: a second call gives the same answer
      expect(await p.discover()).toEqual({ node, limits });
    });

    it('listNics shows the primary NIC at device 0', async () => {
      const { node } = await p.discover();
      const nics = await p.listNics();
      const primary = nics.find((n) => n.deviceIndex === 0);
      expect(primary?.id).toBe(node.primaryNicId);
      expect(primary?.primaryIp).toBe(node.primaryIp);
      expect(primary?.subnetId).toBe(node.primarySubnetId);
      expect(primary?.subnetCidr).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
      expect(new Set(nics.map((n) => n.deviceIndex)).size).toBe(nics.length);
    });

    if (has('ip')) {
    it('assign returns exactly the new ip blocks; release removes them and is idempotent', async () => {
      const { node, limits } = await p.discover();
      const before = await primaryOf(p, node.primaryNicId);
      const n = Math.min(3, limits.addressesPerNic - 1 - before.blocks.length);
      expect(n).toBeGreaterThan(0);
      const got = await p.assign({ nicId: before.id, kind: 'ip', count: n });
      expect(got).toHaveLength(n);
      expect(new Set(got.map((b) => b.cidr)).size).toBe(n);
      for (const b of got) {
        expect(b.kind).toBe('ip');
        expect(b.cidr).toMatch(/\/32$/);
        expect(inCidr(hostOf(b.cidr), before.subnetCidr)).toBe(true);
        expect(hostOf(b.cidr)).not.toBe(before.primaryIp);
        expect(before.blocks.map((x) => x.cidr)).not.toContain(b.cidr);
      }
      const after = await primaryOf(p, node.primaryNicId);
      expect(cidrs(after.blocks)).toEqual(cidrs([...before.blocks, ...got]));

      await p.release({ nicId: before.id, blocks: got });
      expect(cidrs((await primaryOf(p, node.primaryNicId)).blocks)).toEqual(cidrs(before.blocks));
      await p.release({ nicId: before.id, blocks: got });
      await p.release({ nicId: before.id, blocks: [] });
      expect(cidrs((await primaryOf(p, node.primaryNicId)).blocks)).toEqual(cidrs(before.blocks));
    });

    it('a release mixing present and already released blocks releases the present ones', async () => {
      const { node, limits } = await p.discover();
      const before = await primaryOf(p, node.primaryNicId);
      const n = Math.min(2, limits.addressesPerNic - 1 - before.blocks.length);
      const got = await p.assign({ nicId: node.primaryNicId, kind: 'ip', count: n });
      // never assigned: the subnet's broadcast address, which clouds reserve
      const stale: CloudBlock[] = [{ kind: 'ip', cidr: `${lastAddress(before.subnetCidr)}/32` }];
      const first = got[0];
      if (n >= 2 && first) {
        await p.release({ nicId: node.primaryNicId, blocks: [first] });
        stale.push(first);
      }
      await p.release({ nicId: node.primaryNicId, blocks: [...stale, ...got.slice(stale.length - 1)] });
      expect(cidrs((await primaryOf(p, node.primaryNicId)).blocks)).toEqual(cidrs(before.blocks));
    });

    it('assign on a full NIC fails with CLOUD_LIMIT_EXCEEDED and changes nothing', async () => {
      const { node, limits } = await p.discover();
      const before = await primaryOf(p, node.primaryNicId);
      await expectCode(p.assign({ nicId: before.id, kind: 'ip', count: limits.addressesPerNic }), 'CLOUD_LIMIT_EXCEEDED');
      expect(cidrs((await primaryOf(p, node.primaryNicId)).blocks)).toEqual(cidrs(before.blocks));
    });

    it('subnet exhaustion fails with SUBNET_FULL', async () => {
      const { node } = await p.discover();
      await env.backdoor.exhaustSubnet(node.primarySubnetId);
      const before = await primaryOf(p, node.primaryNicId);
      await expectCode(p.assign({ nicId: node.primaryNicId, kind: 'ip', count: 1 }), 'SUBNET_FULL');
      if (has('prefix')) await expectCode(p.assign({ nicId: node.primaryNicId, kind: 'prefix', count: 1 }), 'SUBNET_FULL');
      expect(cidrs((await primaryOf(p, node.primaryNicId)).blocks)).toEqual(cidrs(before.blocks));
    });
    }

    if (claims.blockRefs) {
      it('blocks carry provider data: a ref kept by listNics and a ready state once assigned', async () => {
        const { node, limits } = await p.discover();
        const kind = limits.blockKinds[0] ?? 'ip';
        const got = await p.assign({ nicId: node.primaryNicId, kind, count: 1, ...(kind === 'range' ? { prefixLength: limits.prefixLength ?? 24 } : {}) });
        expect(got).toHaveLength(1);
        const block = got[0] as CloudBlock;
        expect(typeof block.ref === 'string' && block.ref.length > 0).toBe(true);
        expect(blockUsable(block)).toBe(true);
        const listed = (await primaryOf(p, node.primaryNicId)).blocks.find((b) => b.cidr === block.cidr);
        expect(listed).toEqual(block);
        await p.release({ nicId: node.primaryNicId, blocks: got });
      });
    }

    if (has('range')) {
      it('assigns one aligned range of the asked size outside the NIC subnet; listNics shows it; release is idempotent', async () => {
        const { node, limits } = await p.discover();
        const len = limits.prefixLength ?? 24;
        const before = await primaryOf(p, node.primaryNicId);
        const got = await p.assign({ nicId: before.id, kind: 'range', count: 1, prefixLength: len });
        expect(got).toHaveLength(1);
        const range = got[0] as CloudBlock;
        expect(range.kind).toBe('range');
        expect(range.cidr.endsWith(`/${len}`)).toBe(true);
        expect(ipToInt(hostOf(range.cidr)) % 2 ** (32 - len)).toBe(0);
        expect(inCidr(hostOf(range.cidr), before.subnetCidr)).toBe(false);
        expect(cidrs((await primaryOf(p, node.primaryNicId)).blocks)).toEqual(cidrs([...before.blocks, range]));
        // a second range is a different one
        const [second] = await p.assign({ nicId: before.id, kind: 'range', count: 1, prefixLength: len });
        expect(second?.cidr).not.toBe(range.cidr);
        await p.release({ nicId: before.id, blocks: [range, ...(second ? [second] : [])] });
        await p.release({ nicId: before.id, blocks: [range] });
        expect(cidrs((await primaryOf(p, node.primaryNicId)).blocks)).toEqual(cidrs(before.blocks));
      });
    }

    if (has('prefix')) {
      it('assigns aligned prefix blocks and releases them', async () => {
        const { node, limits } = await p.discover();
        const len = limits.prefixLength ?? 28;
        const before = await primaryOf(p, node.primaryNicId);
        const got = await p.assign({ nicId: before.id, kind: 'prefix', count: 2 });
        expect(got).toHaveLength(2);
        for (const b of got) {
          expect(b.kind).toBe('prefix');
          expect(b.cidr.endsWith(`/${len}`)).toBe(true);
          expect(ipToInt(hostOf(b.cidr)) % 2 ** (32 - len)).toBe(0);
          expect(inCidr(hostOf(b.cidr), before.subnetCidr)).toBe(true);
        }
        expect(cidrs((await primaryOf(p, node.primaryNicId)).blocks)).toEqual(cidrs([...before.blocks, ...got]));
        await p.release({ nicId: before.id, blocks: got });
        await p.release({ nicId: before.id, blocks: got });
        expect(cidrs((await primaryOf(p, node.primaryNicId)).blocks)).toEqual(cidrs(before.blocks));
      });

    }

    if (has('prefix') && claims.nicLifecycle) {
      it('attachNic can bring prefix blocks with the new NIC', async () => {
        const { limits } = await p.discover();
        const nl = lifecycle(p);
        const nics = await p.listNics();
        const deviceIndex = Math.max(...nics.map((x) => x.deviceIndex)) + 1;
        const nic = await nl.attachNic({ deviceIndex, blockKind: 'prefix', blockCount: 2 });
        expect(nic.blocks.map((b) => b.kind)).toEqual(['prefix', 'prefix']);
        for (const b of nic.blocks) expect(b.cidr.endsWith(`/${limits.prefixLength ?? 28}`)).toBe(true);
        const listed = (await p.listNics()).find((x) => x.id === nic.id);
        expect(cidrs(listed?.blocks ?? [])).toEqual(cidrs(nic.blocks));
        await nl.detachNic(nic.id);
      });
    }

    if (claims.nicLifecycle) {

    it('attachNic creates a NIC with its blocks at the next device index; detachNic removes it, idempotently', async () => {
      const { limits } = await p.discover();
      const nl = lifecycle(p);
      const nics = await p.listNics();
      const deviceIndex = Math.max(...nics.map((x) => x.deviceIndex)) + 1;
      const count = Math.min(2, limits.addressesPerNic - 1);
      const nic = await nl.attachNic({ deviceIndex, blockKind: 'ip', blockCount: count });
      expect(nic.deviceIndex).toBe(deviceIndex);
      expect(nic.blocks).toHaveLength(count);
      for (const b of nic.blocks) expect(b.kind).toBe('ip');
      expect(nic.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      expect(nics.map((x) => x.id)).not.toContain(nic.id);
      for (const b of nic.blocks) expect(inCidr(hostOf(b.cidr), nic.subnetCidr)).toBe(true);

      const listed = (await p.listNics()).find((x) => x.id === nic.id);
      expect(listed?.deviceIndex).toBe(deviceIndex);
      expect(cidrs(listed?.blocks ?? [])).toEqual(cidrs(nic.blocks));

      await nl.detachNic(nic.id);
      expect((await p.listNics()).map((x) => x.id)).not.toContain(nic.id);
      expect(await env.backdoor.nicExists(nic.id)).toBe(false);
      await nl.detachNic(nic.id);
    });

    it('attaching beyond the NIC limit fails with CLOUD_LIMIT_EXCEEDED and leaves no NIC behind', async () => {
      const { limits } = await p.discover();
      const nl = lifecycle(p);
      // fill every NIC slot, then one more
      let nics = await p.listNics();
      while (nics.length < limits.maxNics) {
        await nl.attachNic({ deviceIndex: Math.max(...nics.map((x) => x.deviceIndex)) + 1, blockKind: 'ip', blockCount: 0 });
        nics = await p.listNics();
      }
      await expectCode(nl.attachNic({ deviceIndex: limits.maxNics, blockKind: 'ip', blockCount: 1 }), 'CLOUD_LIMIT_EXCEEDED');
      expect(await p.listNics()).toHaveLength(limits.maxNics);
      // the NIC created for the failed attach was not left behind
      if (p.leakedNics) expect(await p.leakedNics.findLeakedNics(0)).toEqual([]);
    });
    }

    if (claims.leakedNics) {
    it('findLeakedNics finds our old unattached NICs only; deleteNic is idempotent', async () => {
      const grace = 5 * 60_000;
      const lc = leaks(p);
      const loose = env.backdoor.createLooseNic;
      if (!loose) throw new Error('a setup claiming leakedNics must give backdoor.createLooseNic');
      const old = await loose({ ours: true, ageMs: 2 * grace });
      const young = await loose({ ours: true, ageMs: 0 });
      const foreign = await loose({ ours: false, ageMs: 2 * grace });
      const leaked = await lc.findLeakedNics(grace);
      const ids = leaked.map((l) => l.id);
      expect(ids).toContain(old);
      expect(ids).not.toContain(young);
      expect(ids).not.toContain(foreign);
      const found = leaked.find((l) => l.id === old);
      expect(found?.subnetId).toBe((await p.discover()).node.primarySubnetId);
      expect(found?.since).toBeGreaterThan(0);

      await lc.deleteNic(old);
      expect(await env.backdoor.nicExists(old)).toBe(false);
      await lc.deleteNic(old);
      expect((await lc.findLeakedNics(grace)).map((l) => l.id)).not.toContain(old);
      expect(await env.backdoor.nicExists(foreign)).toBe(true);
    });
    }

    it('errors are VpcnetErrors with stable codes', async () => {
      const { limits } = await p.discover();
      const kind = limits.blockKinds[0] ?? 'ip';
      await expectCode(p.assign({ nicId: 'eni-0000000000doesnotexist', kind, count: 1, ...(kind === 'range' ? { prefixLength: 24 } : {}) }), 'CLOUD_NOT_FOUND');
      await p.nicLifecycle?.detachNic('eni-0000000000doesnotexist');
      await p.leakedNics?.deleteNic('eni-0000000000doesnotexist');
      await p.release({ nicId: 'eni-0000000000doesnotexist', blocks: [{ kind: 'ip', cidr: '10.255.255.1/32' }] });
    });
  });
}

function lifecycle(p: CloudProvider): NicLifecycle {
  if (!p.nicLifecycle) throw new Error(`${p.name} claims NIC lifecycle but has none`);
  return p.nicLifecycle;
}

function leaks(p: CloudProvider): LeakedNicCleanup {
  if (!p.leakedNics) throw new Error(`${p.name} claims leaked-NIC clean-up but has none`);
  return p.leakedNics;
}

async function primaryOf(p: CloudProvider, id: string): Promise<CloudNic> {
  const nic = (await p.listNics()).find((n) => n.id === id);
  if (!nic) throw new Error(`primary NIC ${id} not listed`);
  return nic;
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VpcnetError);
  expect((err as VpcnetError).code).toBe(code);
}

function cidrs(blocks: CloudBlock[]): string[] {
  return blocks.map((b) => b.cidr).sort();
}

function hostOf(cidr: string): string {
  return cidr.split('/')[0] ?? '';
}


function lastAddress(cidr: string): string {
  const [base, len] = cidr.split('/');
  const size = 2 ** (32 - Number(len));
  const v = Math.floor(ipToInt(base ?? '') / size) * size + size - 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(v / 2 ** shift) % 256).join('.');
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, len] = cidr.split('/');
  const bits = Number(len);
  const size = 2 ** (32 - bits);
  const start = Math.floor(ipToInt(base ?? '') / size) * size;
  const v = ipToInt(ip);
  return v >= start && v < start + size;
}

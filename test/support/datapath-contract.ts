// One Datapath contract, run on FakeDatapath (test/unit) and LinuxDatapath in lab namespaces
// (test/privileged): the fake that the CNI handler, agent and reconciler tests lean on must
// answer as the kernel-backed one does, through the interface alone.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Datapath, PodNetworkRequest } from '../../src/datapath/datapath.ts';
import { isVpcnetError } from '../../src/errors.ts';

export interface DatapathHarness {
  datapath: Datapath;
  /** A routed pod on NIC `deviceIndex` with a fresh netns and an unused address. */
  newPod(name: string, deviceIndex: number): PodNetworkRequest;
  /** Deletes the pod's netns, as a runtime may before DEL. */
  removeNetns(req: PodNetworkRequest): void;
  /** Removes everything the harness made; returns what is still there (e.g. namespaces), none expected. */
  destroy(): Promise<string[] | void> | string[] | void;
}

async function codeOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => 'resolved',
    (e: unknown) => (isVpcnetError(e) ? e.code : e),
  );
}

const listed = async (dp: Datapath, ip: string): Promise<string | undefined> => (await dp.listPods()).find((w) => w.ips.includes(ip))?.hostIfname;

export function datapathContract(name: string, make: () => Promise<DatapathHarness>, timeoutMs = 30_000): void {
  describe(`Datapath contract: ${name}`, () => {
    // A fresh harness per test (its own namespaces for LinuxDatapath), so each test runs alone.
    let h: DatapathHarness;
    let live = false;
    beforeEach(async () => {
      h = await make();
      live = true;
    }, 120_000);
    // Cleanup only, after a failed test: a passing one ends with finish().
    afterEach(async () => {
      if (live) await h.destroy();
      live = false;
    });
    /** Removes the test's harness: nothing of it may be left. */
    async function finish(): Promise<void> {
      live = false;
      expect((await h.destroy()) ?? []).toEqual([]);
    }

    it(
      'wires a pod: result names the pod side, the host veth, the link-local gateway; listPods and checkPod agree',
      async () => {
        const req = h.newPod('wire', 0);
        const res = await h.datapath.setupPod(req);
        expect(res).toEqual({
          hostIfname: expect.stringMatching(/^eni[0-9a-f]{11}$/) as unknown as string,
          podIfname: req.ifname,
          podMac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) as unknown as string,
          ip: req.ip,
          gateway: '169.254.1.1',
          netns: req.netns,
        });
        expect(await listed(h.datapath, req.ip)).toBe(res.hostIfname);
        expect(await h.datapath.checkPod(req)).toEqual([]);
        await finish();
      },
      timeoutMs,
    );

    it(
      'setupPod is idempotent: a second call gives the same result and one wiring',
      async () => {
        const req = h.newPod('twice', 1);
        const first = await h.datapath.setupPod(req);
        const second = await h.datapath.setupPod(req);
        expect(second).toEqual(first);
        expect((await h.datapath.listPods()).filter((w) => w.ips.includes(req.ip))).toHaveLength(1);
        expect(await h.datapath.checkPod(req)).toEqual([]);
        await finish();
      },
      timeoutMs,
    );

    it(
      'teardown removes every trace, is idempotent, and checkPod then reports the pod missing',
      async () => {
        const req = h.newPod('down', 0);
        await h.datapath.setupPod(req);
        const teardown = { containerId: req.containerId, ifname: req.ifname, netns: req.netns, ip: req.ip, nic: req.nic };
        await h.datapath.teardownPod(teardown);
        expect(await listed(h.datapath, req.ip)).toBeUndefined();
        await h.datapath.teardownPod(teardown);
        const drift = await h.datapath.checkPod(req);
        expect(drift.length).toBeGreaterThan(0);
        expect(drift.every((d) => d.kind === 'missing')).toBe(true);
        await finish();
      },
      timeoutMs,
    );

    it(
      'teardown succeeds with the netns already gone and without the address',
      async () => {
        const req = h.newPod('gone', 1);
        await h.datapath.setupPod(req);
        h.removeNetns(req);
        await h.datapath.teardownPod({ containerId: req.containerId, ifname: req.ifname, netns: req.netns });
        expect(await listed(h.datapath, req.ip)).toBeUndefined();
        await finish();
      },
      timeoutMs,
    );

    it(
      'refuses hostile netns paths and interface names before changing anything',
      async () => {
        const req = h.newPod('hostile', 0);
        const before = await h.datapath.listPods();
        for (const netns of ['/var/run/netns/../../proc/1/ns/net', '/etc/passwd', 'relative/ns']) {
          expect(await codeOf(h.datapath.setupPod({ ...req, netns }))).toBe('NETNS_INVALID');
        }
        for (const ifname of ['eth0/../x', 'a-name-longer-than-15', '', '..']) {
          expect(await codeOf(h.datapath.setupPod({ ...req, ifname }))).toBe('IFNAME_INVALID');
        }
        expect(await codeOf(h.datapath.teardownPod({ containerId: req.containerId, ifname: 'eth0', hostIfname: 'eth0' }))).toBe('IFNAME_INVALID');
        expect(await h.datapath.listPods()).toEqual(before);
        await finish();
      },
      timeoutMs,
    );
  });
}

// Generated CNI requests for the fuzz test: a valid request (ADD, DEL, CHECK, GC, STATUS,
// VERSION) with exactly one env or stdin mutation, from a seeded PRNG. Each case says which
// outcomes fit: the CNI error codes the mutation deserves, and whether success is acceptable
// (a mutation that leaves the request valid, or a DEL, which succeeds for unknown attachments).
// Forwarder settings in the config (agentSocket, delSpoolDir) are never mutated: a DEL that
// cannot reach the agent is spooled where delSpoolDir says, and a fuzzed path must not decide that.

export interface FuzzTarget {
  containerId: string;
  netns: string;
}

export interface FuzzContext {
  /** The plugin config a runtime sends (the agent's conflist, first plugin, name and cniVersion merged). */
  baseConfig: Record<string, unknown>;
  /** Pods, one container ID per netns; an ADD of one of them with its own netns is valid. */
  targets: FuzzTarget[];
  /** Namespaces that are not pods: the node's own by path, by symlink, by /proc of a process in it. */
  hostileNetns: string[];
  cniPath: string;
}

export interface FuzzCase {
  kind: string;
  command: string;
  env: Record<string, string>;
  stdin: string | Buffer;
  /** Error codes that fit. */
  codes: number[];
  /** Exit 0 is acceptable too. */
  mayPass: boolean;
  /** A valid ADD of this attachment may have succeeded (clean it up at the end). */
  target?: FuzzTarget & { ifname: string };
}

// Also GC's list: a flipped byte in it is a valid GC of everything else, which is fine for the
// agent but would take the fuzz's standing attachments away.
const FORWARDER_KEYS = ['agentSocket', 'delSpoolDir', 'cni.dev/valid-attachments'];
const IFNAMES_OK = ['eth0', 'net1'];

type Rng = () => number;

const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function randomString(r: Rng, len: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./;=:%$ \\"\'\n\t'): string {
  let s = '';
  for (let i = 0; i < len; i++) s += alphabet[Math.floor(r() * alphabet.length)];
  return s;
}

/** Config text with the forwarder keys first, so byte mutations can skip them. */
export function render(conf: Record<string, unknown>): { text: string; protectedEnd: number } {
  const head: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(conf)) (FORWARDER_KEYS.includes(k) ? head : rest)[k] = v;
  const headText = JSON.stringify(head).slice(0, -1);
  const restText = JSON.stringify(rest).slice(1);
  if (headText === '{') return { text: `{${restText}`, protectedEnd: 1 };
  return { text: `${headText},${restText}`, protectedEnd: headText.length + 1 };
}

interface Base {
  command: string;
  env: Record<string, string>;
  conf: Record<string, unknown>;
  target?: FuzzTarget & { ifname: string };
}

function baseRequest(r: Rng, ctx: FuzzContext): Base {
  const t = pick(r, ctx.targets);
  const x = r();
  // eth0 of every target exists before the fuzz starts and is never deleted by it (an ADD of it
  // again is the same request: idempotent); net1 comes and goes.
  const ifname = x < 0.55 ? (r() < 0.7 ? 'eth0' : 'net1') : 'net1';
  const env = { CNI_CONTAINERID: t.containerId, CNI_NETNS: t.netns, CNI_IFNAME: ifname, CNI_PATH: ctx.cniPath, CNI_ARGS: `K8S_POD_NAMESPACE=fuzz;K8S_POD_NAME=${t.containerId}` };
  const conf = structuredClone(ctx.baseConfig);
  if (x < 0.55) return { command: 'ADD', env, conf, target: { ...t, ifname } };
  if (x < 0.8) return { command: 'DEL', env, conf, target: { ...t, ifname } };
  if (x < 0.88) {
    conf.prevResult = { cniVersion: conf.cniVersion, interfaces: [{ name: 'eth0', sandbox: t.netns }], ips: [{ address: '10.255.255.1/32', interface: 0 }] };
    return { command: 'CHECK', env, conf };
  }
  if (x < 0.93) return { command: 'VERSION', env: { CNI_PATH: ctx.cniPath }, conf };
  if (x < 0.97) {
    // GC at 1.1.0, listing every target (so GC never takes what a concurrent ADD just made).
    conf.cniVersion = '1.1.0';
    conf['cni.dev/valid-attachments'] = ctx.targets.flatMap((p) => IFNAMES_OK.map((i) => ({ containerID: p.containerId, ifname: i })));
    return { command: 'GC', env: { CNI_PATH: ctx.cniPath }, conf };
  }
  conf.cniVersion = '1.1.0';
  return { command: 'STATUS', env: { CNI_PATH: ctx.cniPath }, conf };
}

type Mutation = (r: Rng, b: Base, ctx: FuzzContext) => { kind: string; env?: Record<string, string>; stdin?: string | Buffer; codes: number[]; mayPass?: boolean };

const ENV_VARS = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'];

const mutations: Mutation[] = [
  // --- environment ---
  (r, b) => {
    const v = pick(r, ENV_VARS);
    const env: Record<string, string> = { ...b.env, CNI_COMMAND: b.command };
    delete env[v];
    const needed = v === 'CNI_COMMAND' || (b.command === 'ADD' && ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'].includes(v)) || (b.command === 'DEL' && ['CNI_CONTAINERID', 'CNI_IFNAME'].includes(v)) || (b.command === 'CHECK' && ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'].includes(v)) || (b.command === 'GC' && v === 'CNI_PATH');
    return { kind: `env-drop-${v}`, env, codes: [4], mayPass: !needed };
  },
  (r, b) => {
    const v = pick(r, ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME']);
    const isUsed = ['ADD', 'DEL', 'CHECK'].includes(b.command);
    return { kind: `env-empty-${v}`, env: { ...b.env, CNI_COMMAND: b.command, [v]: '' }, codes: [4], mayPass: !isUsed || (b.command === 'DEL' && v === 'CNI_NETNS') };
  },
  (r, b) => ({ kind: 'env-command', env: { ...b.env, CNI_COMMAND: pick(r, ['add', 'Add', 'ADD ', 'DELETE', 'FOO', '', 'VERSION\n', randomString(r, 1 + Math.floor(r() * 12))]) }, codes: [4] }),
  (r, b) => {
    const bad = pick(r, ['', '-abc', '.x', 'a/b', 'a b', 'x'.repeat(257), 'éclair', 'a\nb', '../../etc', randomString(r, 1 + Math.floor(r() * 40))]);
    const valid = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,255}$/.test(bad);
    const uses = ['ADD', 'DEL', 'CHECK'].includes(b.command);
    // a valid but unknown id: ADD makes a new attachment only if its netns is free (idempotency by id)
    // (a new id into a netns whose ifname is taken fails in the datapath: 102)
    return { kind: 'env-containerid', env: { ...b.env, CNI_COMMAND: b.command, CNI_CONTAINERID: bad }, codes: valid ? [3, 4, 7, 102] : [4], mayPass: !uses || b.command === 'DEL' || (valid && b.command !== 'CHECK') };
  },
  (r, b) => {
    const bad = pick(r, ['lo', 'all', 'default', '.', '..', 'a/b', 'eth0;rm', 'x'.repeat(16), 'eth 0', 'eth:0', '', randomString(r, 1 + Math.floor(r() * 20))]);
    const uses = ['ADD', 'DEL', 'CHECK'].includes(b.command);
    // a random string may be a fine interface name: then ADD makes a new attachment
    const valid = /^[A-Za-z0-9_.-]{1,15}$/.test(bad) && !['.', '..', 'lo', 'all', 'default'].includes(bad);
    return { kind: 'env-ifname', env: { ...b.env, CNI_COMMAND: b.command, CNI_IFNAME: bad }, codes: valid ? [3, 4, 7, 102] : [4], mayPass: !uses || b.command === 'DEL' || (valid && b.command === 'ADD') };
  },
  (r, b, ctx) => {
    const bad = pick(r, [...ctx.hostileNetns, '/tmp/x', '../../etc', '/var/run/netns/../../etc/passwd', '/proc/self/ns/net', '/proc/999999/ns/net', '/var/run/netns/vc8r-absent', '/var/run/netns/', '/etc/passwd', randomString(r, 1 + Math.floor(r() * 60))]);
    const uses = ['ADD', 'CHECK'].includes(b.command);
    return { kind: 'env-netns', env: { ...b.env, CNI_COMMAND: b.command, CNI_NETNS: bad }, codes: b.command === 'CHECK' ? [3, 4, 7] : [4], mayPass: !uses };
  },
  (r, b, ctx) => {
    // the same attachment again with another pod's netns: must not move the interface
    // eth0 of this container exists in its own netns: the same ID and ifname with another netns
    // is a different request and must be refused, leaving the existing attachment alone
    const other = pick(r, ctx.targets.filter((t) => t.netns !== b.env.CNI_NETNS));
    return { kind: 'env-netns-other-pod', env: { ...b.env, CNI_COMMAND: b.command, CNI_IFNAME: b.command === 'DEL' ? 'net1' : 'eth0', CNI_NETNS: other.netns }, codes: [3, 4, 7], mayPass: b.command === 'DEL' || !['ADD', 'CHECK'].includes(b.command) };
  },
  (r, b) => ({ kind: 'env-args', env: { ...b.env, CNI_COMMAND: b.command, CNI_ARGS: pick(r, ['K8S_POD_NAME', '=x', ';;;', 'A=B=C', 'IgnoreUnknown=1;X=y', randomString(r, Math.floor(r() * 200))]) }, codes: [4], mayPass: true }),
  (r, b) => {
    const v = pick(r, ENV_VARS.filter((x) => x !== 'CNI_COMMAND'));
    return { kind: `env-long-${v}`, env: { ...b.env, CNI_COMMAND: b.command, [v]: 'a'.repeat(4097 + Math.floor(r() * 5000)) }, codes: [4] };
  },
  // --- stdin ---
  (r, b) => {
    const { text, protectedEnd } = render(b.conf);
    const buf = Buffer.from(text);
    const n = 1 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) {
      const at = protectedEnd + Math.floor(r() * (buf.length - protectedEnd - 1));
      buf[at] = Math.floor(r() * 256);
    }
    return { kind: 'stdin-byteflip', stdin: buf, codes: [1, 2, 5, 6, 7], mayPass: true };
  },
  (r, b) => {
    const { text, protectedEnd } = render(b.conf);
    return { kind: 'stdin-truncate', stdin: text.slice(0, protectedEnd + Math.floor(r() * (text.length - protectedEnd))), codes: [6] };
  },
  (r) => ({ kind: 'stdin-not-object', stdin: pick(r, ['', ' ', 'null', '[]', '"x"', '42', 'true', '{', '}', '[{}]', randomString(r, 30)]), codes: [6, 7], mayPass: false }),
  (r, b) => ({ kind: 'stdin-bad-utf8', stdin: Buffer.concat([Buffer.from(render(b.conf).text.slice(0, -1)), Buffer.from(',"x":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]), codes: [6] }),
  (r, b) => {
    const conf = { ...b.conf, cniVersion: pick<unknown>(r, ['0.1.0', '0.2.0', '9.9.9', '1.2.0', '', 'abc', 1, null, '1.0', '01.0.0']) };
    return { kind: 'stdin-version', stdin: render(conf).text, codes: [1, 7], mayPass: b.command === 'VERSION' };
  },
  (r, b) => {
    const conf = { ...b.conf };
    delete conf.cniVersion;
    return { kind: 'stdin-no-version', stdin: render(conf).text, codes: [1, 7], mayPass: b.command === 'VERSION' };
  },
  (r, b) => {
    const field = pick(r, ['name', 'type', 'mtu', 'dns', 'ipMasq', 'capabilities', 'runtimeConfig', 'args']);
    const value = pick<unknown>(r, [null, 1, -1, 0, 100000, 'x', '', [], {}, true, 'a'.repeat(300), { nested: { deep: [1, 2, 3] } }]);
    const conf = { ...b.conf, [field]: value };
    // some values happen to be valid (e.g. capabilities {}, args {}): success then is fine
    const plainName = typeof value === 'string' && /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value);
    return {
      kind: `stdin-field-${field}`,
      stdin: render(conf).text,
      codes: [2, 7],
      mayPass: b.command === 'VERSION' || ['capabilities', 'runtimeConfig', 'args', 'dns'].includes(field) || (['name', 'type'].includes(field) && plainName),
    };
  },
  (r, b) => {
    const conf = { ...b.conf };
    const which = pick(r, ['unknown', 'ipam', 'ipMasq', 'staticIps']);
    if (which === 'unknown') conf[`x${Math.floor(r() * 1000)}`] = 'y';
    if (which === 'ipam') conf.ipam = { type: 'host-local', subnet: '10.9.0.0/24' };
    if (which === 'ipMasq') conf.ipMasq = true;
    if (which === 'staticIps') conf.args = { cni: { ips: ['10.0.0.99'] } };
    return { kind: `stdin-unsupported-${which}`, stdin: render(conf).text, codes: [2], mayPass: b.command === 'VERSION' };
  },
  (r, b) => {
    const prev = pick<unknown>(r, [
      { ips: [{ address: 'notanip' }] },
      { routes: [{ dst: 'bad' }] },
      { interfaces: 'x' },
      { ips: [{ address: '10.0.0.1/33', interface: 99 }] },
      'garbage',
      42,
      { cniVersion: '1.0.0', ips: [{ address: '10.0.0.1/24', gateway: 'nope' }] },
    ]);
    const conf = { ...b.conf, prevResult: prev };
    // prevResult means something to ADD and CHECK only
    return { kind: 'stdin-prevresult', stdin: render(conf).text, codes: [7], mayPass: !['ADD', 'CHECK'].includes(b.command) };
  },
  (r, b) => {
    // over 1 MiB: refused as an I/O failure, never interpreted
    const conf = { ...b.conf, pad: 'p'.repeat((1 << 20) + Math.floor(r() * 1000)) };
    return { kind: 'stdin-oversized', stdin: render(conf).text, codes: [5], mayPass: b.command === 'VERSION' };
  },
  (r, b) => {
    // deep nesting as text (JSON.stringify of it would overflow the generator's own stack)
    const depth = 100 + Math.floor(r() * 5000);
    const conf = { ...b.conf };
    delete conf.runtimeConfig;
    const text = render(conf).text.slice(0, -1) + `,"runtimeConfig":{"deep":${'['.repeat(depth)}1${']'.repeat(depth)}}}`;
    return { kind: 'stdin-deep', stdin: text, codes: [2, 6, 7], mayPass: true };
  },
];

/** The valid request itself (no mutation): success expected, except CHECK with a made-up prevResult. */
function unmutated(b: Base): FuzzCase {
  const okCodes = b.command === 'CHECK' ? [3, 7, 102] : b.command === 'ADD' && b.env.CNI_IFNAME === 'net1' ? [7] : [];
  return {
    kind: `valid-${b.command}`,
    command: b.command,
    env: { ...b.env, CNI_COMMAND: b.command },
    stdin: render(b.conf).text,
    codes: okCodes,
    mayPass: b.command !== 'CHECK',
    ...(b.target ? { target: b.target } : {}),
  };
}

export function generateCase(r: Rng, ctx: FuzzContext): FuzzCase {
  const b = baseRequest(r, ctx);
  if (r() < 0.15) return unmutated(b);
  const m = pick(r, mutations)(r, b, ctx);
  const env = m.env ?? { ...b.env, CNI_COMMAND: b.command };
  // VERSION is answered by the forwarder itself from whatever it got (stdin over 1 MiB: 5),
  // unless the command itself is what was mutated.
  const local = b.command === 'VERSION' && env.CNI_COMMAND === 'VERSION';
  // The CHECK base carries a made-up prevResult, so it fails by itself (3, 7 or 102) unless the
  // mutation is caught first.
  const own = b.command === 'CHECK' ? [3, 7, 102] : [];
  // net1 comes and goes; an earlier accepted variant of the config may hold it ("DEL it first": 7)
  if (b.command === 'ADD' && b.env.CNI_IFNAME === 'net1') own.push(7);
  return {
    kind: m.kind,
    command: b.command,
    env,
    stdin: m.stdin ?? render(b.conf).text,
    codes: [...new Set([...m.codes, ...own, ...(local ? [5] : [])])],
    mayPass: local || (m.mayPass ?? false),
    // any ADD might have made an attachment under the env it was sent with
    ...(b.target ? { target: b.target } : {}),
  };
}

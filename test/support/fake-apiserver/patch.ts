// The three patch formats the API server accepts, applied the way it applies them.
// Strategic merge knows the merge keys of the lists vpcnet touches; other lists are replaced.

type Json = unknown;
type Obj = Record<string, unknown>;

export class PatchError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => structuredClone(v);

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** patchMergeKey of the lists that carry one in the Kubernetes API (the subset we serve). */
const MERGE_KEYS: Record<string, string> = {
  conditions: 'type',
  addresses: 'type',
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  podIPs: 'ip',
  tolerations: '', // replace
  taints: '', // replace (taints have no merge key in the API)
};

/** Strategic merge patch: like merge patch, but keyed lists merge by key and `$patch: delete` removes. */
export function strategicMergePatch(target: Json, patch: Json, field = ''): Json {
  if (Array.isArray(patch)) {
    const key = MERGE_KEYS[field];
    if (!key || !Array.isArray(target)) return clone(patch.filter((p) => !(isObj(p) && p['$patch'] === 'delete')));
    const out = clone(target) as Obj[];
    for (const item of patch) {
      if (!isObj(item)) continue;
      const idx = out.findIndex((o) => isObj(o) && o[key] === item[key]);
      if (item['$patch'] === 'delete') {
        if (idx >= 0) out.splice(idx, 1);
      } else if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item) as Obj;
      else out.push(clone(item));
    }
    return out;
  }
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else out[k] = strategicMergePatch(out[k], v, k);
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  value?: Json;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(422, `bad JSON pointer ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, parts: string[]): { parent: Obj | Json[]; last: string } {
  let cur: Json = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isObj(cur)) cur = cur[p];
    else throw new PatchError(422, `path not found at ${p}`);
    if (cur === undefined) throw new PatchError(422, `path not found at ${p}`);
  }
  if (!Array.isArray(cur) && !isObj(cur)) throw new PatchError(422, 'path parent is not a container');
  return { parent: cur, last: parts[parts.length - 1] ?? '' };
}

function getAt(doc: Json, parts: string[]): Json {
  let cur: Json = doc;
  for (const p of parts) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isObj(cur)) cur = cur[p];
    else return undefined;
  }
  return cur;
}

/** RFC 6902 JSON patch; a failed `test` is a 422 like the API server's. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError(400, 'JSON patch must be an array');
  let doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    const parts = pointer(raw.path);
    if (raw.op === 'test') {
      if (JSON.stringify(getAt(doc, parts)) !== JSON.stringify(raw.value)) {
        throw new PatchError(422, `test failed at ${raw.path}`);
      }
      continue;
    }
    if (parts.length === 0) {
      if (raw.op === 'add' || raw.op === 'replace') doc = clone(raw.value);
      continue;
    }
    const { parent, last } = parentOf(doc, parts);
    if (raw.op === 'add' || raw.op === 'replace') {
      if (Array.isArray(parent)) {
        const idx = last === '-' ? parent.length : Number(last);
        if (raw.op === 'add') parent.splice(idx, 0, clone(raw.value));
        else if (idx < parent.length) parent[idx] = clone(raw.value);
        else throw new PatchError(422, `no element at ${raw.path}`);
      } else {
        if (raw.op === 'replace' && !(last in parent)) throw new PatchError(422, `no field at ${raw.path}`);
        parent[last] = clone(raw.value);
      }
    } else if (raw.op === 'remove') {
      if (Array.isArray(parent)) {
        const idx = Number(last);
        if (idx >= parent.length) throw new PatchError(422, `no element at ${raw.path}`);
        parent.splice(idx, 1);
      } else {
        if (!(last in parent)) throw new PatchError(422, `no field at ${raw.path}`);
        delete parent[last];
      }
    } else {
      throw new PatchError(400, `unsupported op ${raw.op}`);
    }
  }
  return doc;
}

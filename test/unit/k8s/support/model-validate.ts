// Validates a Kubernetes object against the API model that @kubernetes/client-node ships:
// every class has an attributeTypeMap (field name -> type), so walking it rejects unknown
// fields and wrong types offline, with no schema download.
import * as k8s from '@kubernetes/client-node';

interface Attr {
  name: string;
  baseName: string;
  type: string;
}

type ModelClass = { getAttributeTypeMap(): Attr[] };

const models = k8s as unknown as Record<string, ModelClass | undefined>;

/** Model class name for an object: apps/v1 DaemonSet -> V1DaemonSet. */
export function modelNameOf(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop() ?? '';
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

export function validateObject(obj: Record<string, unknown>): string[] {
  const name = modelNameOf(String(obj['apiVersion'] ?? ''), String(obj['kind'] ?? ''));
  if (!models[name]?.getAttributeTypeMap) return [`no model for ${String(obj['apiVersion'])} ${String(obj['kind'])}`];
  const errors: string[] = [];
  check(obj, name, String(obj['kind']), errors);
  return errors;
}

function check(value: unknown, type: string, path: string, errors: string[]): void {
  const fail = (msg: string): void => void errors.push(`${path}: ${msg}`);
  if (value === null || value === undefined) return;
  if (type === 'any' || type === 'object') return;
  if (type === 'string' || type === 'Date') {
    if (typeof value !== 'string') fail(`expected string, got ${typeof value}`);
    return;
  }
  if (type === 'number') {
    if (typeof value !== 'number') fail(`expected number, got ${typeof value}`);
    return;
  }
  if (type === 'boolean') {
    if (typeof value !== 'boolean') fail(`expected boolean, got ${typeof value}`);
    return;
  }
  if (type === 'IntOrString') {
    if (typeof value !== 'string' && typeof value !== 'number') fail('expected int or string');
    return;
  }
  const arr = /^Array<(.+)>$/.exec(type);
  if (arr) {
    if (!Array.isArray(value)) return fail('expected array');
    value.forEach((v, i) => check(v, arr[1] as string, `${path}[${i}]`, errors));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== 'object' || Array.isArray(value)) return fail('expected map');
    for (const [k, v] of Object.entries(value)) check(v, map[1] as string, `${path}.${k}`, errors);
    return;
  }
  const model = models[type];
  if (!model?.getAttributeTypeMap) return fail(`unknown type ${type}`);
  if (typeof value !== 'object' || Array.isArray(value)) return fail(`expected ${type} object`);
  const attrs = model.getAttributeTypeMap();
  for (const [k, v] of Object.entries(value)) {
    const attr = attrs.find((a) => a.baseName === k);
    if (!attr) fail(`unknown field "${k}" in ${type}`);
    else check(v, attr.type, `${path}.${k}`, errors);
  }
}

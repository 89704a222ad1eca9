// The part of OpenAPI v3 / structural-schema validation a CRD uses: types, required,
// properties (unknown fields rejected, as with fieldValidation=Strict), arrays, string
// length and pattern, enum, and x-kubernetes-list-type: set.
export interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  'x-kubernetes-list-type'?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export function validateAgainst(schema: Schema, value: unknown, path = ''): string[] {
  const errors: string[] = [];
  const fail = (m: string): void => void errors.push(`${path || '<root>'}: ${m}`);
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        fail('must be an object');
        break;
      }
      const obj = value as Record<string, unknown>;
      for (const r of schema.required ?? []) if (!(r in obj)) fail(`${r} is required`);
      if (schema.properties) {
        for (const [k, v] of Object.entries(obj)) {
          const sub = schema.properties[k];
          if (!sub) {
            if (!schema['x-kubernetes-preserve-unknown-fields']) fail(`unknown field "${k}"`);
          } else errors.push(...validateAgainst(sub, v, `${path}.${k}`));
        }
      }
      break;
    }
    case 'array': {
      if (!Array.isArray(value)) {
        fail('must be an array');
        break;
      }
      if (schema.minItems !== undefined && value.length < schema.minItems) fail(`needs at least ${schema.minItems} items`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems) fail(`allows at most ${schema.maxItems} items`);
      if (schema['x-kubernetes-list-type'] === 'set' && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) {
        fail('duplicate items in a set');
      }
      if (schema.items) value.forEach((v, i) => errors.push(...validateAgainst(schema.items as Schema, v, `${path}[${i}]`)));
      break;
    }
    case 'string':
      if (typeof value !== 'string') {
        fail('must be a string');
        break;
      }
      if (schema.minLength !== undefined && value.length < schema.minLength) fail(`shorter than ${schema.minLength}`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength) fail(`longer than ${schema.maxLength}`);
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) fail(`does not match ${schema.pattern}`);
      break;
    case 'integer':
      if (!Number.isInteger(value)) fail('must be an integer');
      break;
    case 'boolean':
      if (typeof value !== 'boolean') fail('must be a boolean');
      break;
    default:
      break;
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) fail('not one of the allowed values');
  return errors;
}

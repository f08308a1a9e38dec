/**
 * A plain JSON Schema (2020-12) check of the exported .json files, written
 * from the specification and sharing nothing with TypeBox: if the export lost
 * or mangled a keyword, TypeBox-compiled validators would still pass while
 * this one, reading only the JSON, would not. (TypeBox's Value.Check cannot
 * read a parsed file: it needs the Kind symbols a JSON file does not carry.)
 *
 * Only the keywords the export produces are implemented; any other keyword
 * throws, so a schema this cannot read never passes by accident.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = boolean | Record<string, unknown>;

const ANNOTATIONS = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples']);
const APPLIED = new Set([
  'type', 'const', 'enum', 'properties', 'patternProperties', 'additionalProperties', 'required',
  'items', 'prefixItems', 'minItems', 'maxItems', 'anyOf', 'oneOf', 'allOf',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength', 'pattern',
]);

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** The first error found, as `path: what`, or null when `value` is valid. */
export function firstError(schema: Schema, value: unknown, path = ''): string | null {
  if (schema === true) return null;
  if (schema === false) return `${path || '/'}: no value is allowed`;
  for (const k of Object.keys(schema)) {
    if (!ANNOTATIONS.has(k) && !APPLIED.has(k)) throw new Error(`json-schema.ts does not implement keyword '${k}' (at ${path || '/'})`);
  }
  const at = path || '/';
  const s = schema as Record<string, unknown>;
  const t = jsonType(value);

  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    const ok = types.some((want) => want === t || (want === 'number' && t === 'integer'));
    if (!ok) return `${at}: expected ${types.join(' or ')}, got ${t}`;
  }
  if ('const' in s && !deepEqual(s.const, value)) return `${at}: must be ${JSON.stringify(s.const)}`;
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, value))) return `${at}: not one of ${JSON.stringify(s.enum)}`;

  if (t === 'number' || t === 'integer') {
    const n = value as number;
    if (typeof s.minimum === 'number' && n < s.minimum) return `${at}: below minimum ${s.minimum}`;
    if (typeof s.maximum === 'number' && n > s.maximum) return `${at}: above maximum ${s.maximum}`;
    if (typeof s.exclusiveMinimum === 'number' && n <= s.exclusiveMinimum) return `${at}: not above ${s.exclusiveMinimum}`;
    if (typeof s.exclusiveMaximum === 'number' && n >= s.exclusiveMaximum) return `${at}: not below ${s.exclusiveMaximum}`;
  }
  if (t === 'string') {
    // JSON Schema counts characters (code points), not UTF-16 units.
    const len = [...(value as string)].length;
    if (typeof s.minLength === 'number' && len < s.minLength) return `${at}: shorter than ${s.minLength}`;
    if (typeof s.maxLength === 'number' && len > s.maxLength) return `${at}: longer than ${s.maxLength}`;
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value as string)) return `${at}: does not match ${s.pattern}`;
  }
  if (t === 'array') {
    const arr = value as unknown[];
    if (typeof s.minItems === 'number' && arr.length < s.minItems) return `${at}: fewer than ${s.minItems} items`;
    if (typeof s.maxItems === 'number' && arr.length > s.maxItems) return `${at}: more than ${s.maxItems} items`;
    const prefix = (s.prefixItems as Schema[] | undefined) ?? [];
    for (let i = 0; i < arr.length; i++) {
      const sub = i < prefix.length ? prefix[i] : (s.items as Schema | undefined);
      if (sub === undefined) continue;
      const e = firstError(sub, arr[i], `${path}/${i}`);
      if (e) return e;
    }
  }
  if (t === 'object') {
    const obj = value as Record<string, unknown>;
    for (const r of (s.required as string[] | undefined) ?? []) if (!(r in obj)) return `${at}: '${r}' is required`;
    const props = (s.properties as Record<string, Schema> | undefined) ?? {};
    const patterns = Object.entries((s.patternProperties as Record<string, Schema> | undefined) ?? {});
    for (const [k, v] of Object.entries(obj)) {
      let matched = false;
      if (k in props) {
        matched = true;
        const e = firstError(props[k]!, v, `${path}/${k}`);
        if (e) return e;
      }
      for (const [re, sub] of patterns) {
        if (!new RegExp(re, 'u').test(k)) continue;
        matched = true;
        const e = firstError(sub, v, `${path}/${k}`);
        if (e) return e;
      }
      if (!matched && s.additionalProperties !== undefined) {
        const e = firstError(s.additionalProperties as Schema, v, `${path}/${k}`);
        if (e) return e;
      }
    }
  }
  if (Array.isArray(s.allOf)) for (const sub of s.allOf as Schema[]) {
    const e = firstError(sub, value, path);
    if (e) return e;
  }
  if (Array.isArray(s.anyOf) && !(s.anyOf as Schema[]).some((sub) => firstError(sub, value, path) === null)) return `${at}: matches none of anyOf`;
  if (Array.isArray(s.oneOf) && (s.oneOf as Schema[]).filter((sub) => firstError(sub, value, path) === null).length !== 1) return `${at}: does not match exactly one of oneOf`;
  return null;
}

export function isValid(schema: Schema, value: Json | unknown): boolean {
  return firstError(schema, value) === null;
}

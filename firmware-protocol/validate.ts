/**
 * Compiled validators for every frame, with errors a firmware author can act
 * on: `"target_device_id must be a string"`, never a stack trace.
 *
 * TypeBox schemas are JSON Schema, so the same objects are exported as
 * .json files (export-schemas.ts) and compiled here once at load.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';

export type Check<T extends TSchema> = TypeCheck<T>;

export function compile<T extends TSchema>(schema: T): TypeCheck<T> {
  return TypeCompiler.Compile(schema);
}

function fieldName(path: string): string {
  // "/samples/3/2" -> "samples[3][2]"
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) return 'frame';
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function typeWord(schema: TSchema): string {
  const t = (schema as { type?: unknown }).type;
  if (t === 'string') return 'a string';
  if (t === 'integer') return 'an integer';
  if (t === 'number') return 'a number';
  if (t === 'boolean') return 'true or false';
  if (t === 'array') return 'an array';
  if (t === 'object') return 'an object';
  if (t === 'null') return 'null';
  return 'valid';
}

function valueWord(v: unknown): string {
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  if (typeof v === 'boolean') return 'true or false';
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  return 'an object';
}

/** One human sentence for the first (most relevant) error of a frame. */
export function describeError(e: ValueError): string {
  const field = fieldName(e.path);
  const s = e.schema as Record<string, unknown>;
  switch (e.type) {
    case ValueErrorType.ObjectRequiredProperty:
      return `${field} is required`;
    case ValueErrorType.Literal:
      return `${field} must be ${JSON.stringify(s.const)}`;
    case ValueErrorType.StringMinLength:
      return s.minLength === 1 ? `${field} must not be empty` : `${field} must be at least ${String(s.minLength)} characters`;
    case ValueErrorType.StringMaxLength:
      return `${field} must be at most ${String(s.maxLength)} characters`;
    case ValueErrorType.StringPattern:
      return `${field} has characters that are not allowed (${String(s.pattern)})`;
    case ValueErrorType.NumberMinimum:
    case ValueErrorType.IntegerMinimum:
      return `${field} must be at least ${String(s.minimum)}`;
    case ValueErrorType.NumberMaximum:
    case ValueErrorType.IntegerMaximum:
      return `${field} must be at most ${String(s.maximum)}`;
    case ValueErrorType.NumberExclusiveMinimum:
    case ValueErrorType.IntegerExclusiveMinimum:
      return `${field} must be greater than ${String(s.exclusiveMinimum)}`;
    case ValueErrorType.ArrayMinItems:
      if (s.minItems === s.maxItems) return `${field} must have exactly ${String(s.minItems)} items`;
      return `${field} must have at least ${String(s.minItems)} item${s.minItems === 1 ? '' : 's'}`;
    case ValueErrorType.ArrayMaxItems:
      if (s.minItems === s.maxItems) return `${field} must have exactly ${String(s.maxItems)} items`;
      return `${field} must have at most ${String(s.maxItems)} items`;
    case ValueErrorType.Union: {
      const branches = (s.anyOf as TSchema[] | undefined) ?? [];
      if (branches.length > 0 && branches.every((b) => 'const' in b)) {
        return `${field} must be one of ${branches.map((b) => JSON.stringify((b as unknown as { const: unknown }).const)).join(', ')}`;
      }
      // A value of the right kind that fails a branch's rule (an empty string where a
      // non-empty string or null is allowed): say what that branch wants, not "a string or null".
      const kind = valueWord(e.value);
      const nested = (e as ValueError & { errors?: Iterable<ValueError>[] }).errors ?? [];
      for (let i = 0; i < branches.length; i++) {
        if (typeWord(branches[i]!) !== kind) continue;
        const first = nested[i] ? [...nested[i]!][0] : undefined;
        if (first) return describeError(first.path.startsWith(e.path) ? first : { ...first, path: e.path + first.path });
      }
      const options = branches.map(typeWord).filter((w) => w !== 'valid');
      return options.length ? `${field} must be ${[...new Set(options)].join(' or ')}` : `${field} is not valid`;
    }
    case ValueErrorType.ObjectAdditionalProperties: {
      // The path names the unknown key itself: report it against its parent object.
      const parts = e.path.split('/').filter(Boolean);
      const key = parts.pop();
      const parent = fieldName('/' + parts.join('/'));
      return key === undefined ? `${field} has an unknown field` : `${parent} has an unknown field '${key}'`;
    }
    default:
      return `${field} must be ${typeWord(e.schema)}`;
  }
}

/**
 * Bounds on the shape of any JSON value a client sends, free-form fields
 * included (a status, a message's content, a command's params or result).
 * JSON.parse accepts 20,000 levels of nesting, but JSON.stringify, the store
 * and every reader after it recurse; a value past these bounds is refused
 * before anything keeps it.
 */
export const MAX_JSON_DEPTH = 32;
/** Object members plus array items in one frame; a full batch_sensor_data has 14,000. */
export const MAX_JSON_VALUES = 50_000;

/**
 * Why `value` is over MAX_JSON_DEPTH (the frame itself is level 1) or
 * MAX_JSON_VALUES, or null. Iterative, so a hostile depth cannot overflow the
 * stack, and stops at the first bound passed, so a hostile width costs no more
 * than the limit.
 */
export function jsonShapeError(value: unknown, maxDepth = MAX_JSON_DEPTH, maxValues = MAX_JSON_VALUES): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const stack: object[] = [value];
  const depths: number[] = [1];
  const roots: string[] = ['frame'];
  let values = 0;
  while (stack.length > 0) {
    const v = stack.pop()!;
    const d = depths.pop()!;
    const root = roots.pop()!;
    if (d > maxDepth) return `${root} is nested deeper than ${maxDepth} levels`;
    if (Array.isArray(v)) {
      values += v.length;
      if (values > maxValues) return `frame has more than ${maxValues} values (object fields and array items)`;
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (typeof x === 'object' && x !== null) {
          stack.push(x);
          depths.push(d + 1);
          roots.push(d === 1 ? `frame[${i}]` : root);
        }
      }
    } else {
      for (const k in v) {
        if (++values > maxValues) return `frame has more than ${maxValues} values (object fields and array items)`;
        const x: unknown = (v as Record<string, unknown>)[k];
        if (typeof x === 'object' && x !== null) {
          stack.push(x);
          depths.push(d + 1);
          // Name the top-level field a firmware author can find in their code.
          roots.push(d === 1 ? k.slice(0, 64) : root);
        }
      }
    }
  }
  return null;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; error: string };

export function validate<T extends TSchema>(check: TypeCheck<T>, value: unknown): Validation<Static<T>> {
  // Before the schema: free-form fields pass any schema, and no check should walk a hostile shape.
  const shape = jsonShapeError(value);
  if (shape !== null) return { ok: false, error: shape };
  if (check.Check(value)) return { ok: true, value };
  // Required-field errors first: "content is required" beats a type error elsewhere.
  const errors = [...check.Errors(value)];
  const first = errors.find((e) => e.type === ValueErrorType.ObjectRequiredProperty) ?? errors[0];
  return { ok: false, error: first ? describeError(first) : 'frame is not valid' };
}

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

export type Validation<T> = { ok: true; value: T } | { ok: false; error: string };

export function validate<T extends TSchema>(check: TypeCheck<T>, value: unknown): Validation<Static<T>> {
  if (check.Check(value)) return { ok: true, value };
  // Required-field errors first: "content is required" beats a type error elsewhere.
  const errors = [...check.Errors(value)];
  const first = errors.find((e) => e.type === ValueErrorType.ObjectRequiredProperty) ?? errors[0];
  return { ok: false, error: first ? describeError(first) : 'frame is not valid' };
}

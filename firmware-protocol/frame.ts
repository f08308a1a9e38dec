/**
 * Turning a received text frame into a typed, validated object: JSON, an
 * object, a known `type`, then that type's schema. The result is either the
 * frame or the error frame to send back; nothing throws.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { compile, validate, type Check } from './validate.js';
import { errorFrame, type ErrorFrame } from './errors.js';

export type FrameTable = Record<string, TSchema>;
export type FrameOf<T extends FrameTable> = { [K in keyof T]: Static<T[K]> }[keyof T];

export type Parsed<T> = { ok: true; frame: T } | { ok: false; error: ErrorFrame };

/** JSON.parse that never throws; `undefined` stands for "not JSON". */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function requestId(v: Record<string, unknown>): string | number | undefined {
  // Echo only ids that are valid ones (what the schemas accept), never arbitrary input.
  const id = v.id;
  if (typeof id === 'string' && id.length <= 64) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  return undefined;
}

/** A dispatcher over a table of frame schemas keyed by `type`, compiled once. */
export class FrameParser<T extends FrameTable> {
  private readonly checks = new Map<string, Check<TSchema>>();

  constructor(readonly table: T) {
    for (const [type, schema] of Object.entries(table)) this.checks.set(type, compile(schema));
  }

  /** Validates an already-parsed value. */
  check(value: unknown): Parsed<FrameOf<T>> {
    if (!isObject(value)) return { ok: false, error: errorFrame('NOT_AN_OBJECT') };
    const type = value.type;
    if (typeof type !== 'string') {
      return { ok: false, error: errorFrame('BAD_FRAME', type === undefined ? 'type is required' : 'type must be a string', requestId(value)) };
    }
    const check = this.checks.get(type);
    if (!check) {
      return { ok: false, error: errorFrame('UNKNOWN_TYPE', `unknown message type '${type.slice(0, 64)}'`, requestId(value)) };
    }
    const v = validate(check, value);
    if (!v.ok) return { ok: false, error: errorFrame('BAD_FRAME', v.error, requestId(value)) };
    return { ok: true, frame: value as FrameOf<T> };
  }

  parse(text: string): Parsed<FrameOf<T>> {
    const j = parseJson(text);
    if (!j.ok) return { ok: false, error: errorFrame('INVALID_JSON') };
    return this.check(j.value);
  }
}

/** One schema, not a table (first frames, which have no `type` in seed 000). */
export function checkOne<S extends TSchema>(check: Check<S>, value: unknown): Parsed<Static<S>> {
  if (!isObject(value)) return { ok: false, error: errorFrame('NOT_AN_OBJECT') };
  const v = validate(check, value);
  return v.ok ? { ok: true, frame: v.value } : { ok: false, error: errorFrame('BAD_FRAME', v.error) };
}

/**
 * The operator fan-out sends each batch's samples as the board wrote them,
 * not parsed and printed again: formatting thirty doubles is most of what
 * serializing a batch costs, and the numbers an operator parses from the
 * board's own text are the ones the gateway parsed from it.
 *
 * Regular expressions, not loops over `charCodeAt`: on a frame's text (which
 * comes in several string representations) each `charCodeAt` was a generic
 * property load, and that loop was most of what the passthrough cost.
 */

/** JSON's whitespace, and no other (`\s` takes more than JSON.parse does). */
const WS = '[ \\t\\n\\r]*';
const ROW = `\\[[0-9eE+\\-., \\t\\n\\r]*\\]${WS}`;
/** A JSON number as JSON writes one (the schema already refused what is not finite). */
const NUMBER = '-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?';

/** A key as it appears quoted in the text, and what matches at it: the key, its colon, and (group 1) the value. */
interface Field {
  quoted: string;
  at: RegExp;
}

/** No colon after the key: no match (the word was a string value). A colon but another value: group 1 is absent. */
function field(name: string, value: string): Field {
  return { quoted: `"${name}"`, at: new RegExp(`"${name}"${WS}:${WS}(${value})?`, 'y') };
}

/** Arrays of numbers only, up to the bracket that closes the outer one (a string, a third level, a bracket left open do not match). */
const SAMPLES = field('samples', `\\[${WS}(?:${ROW}(?:,${WS}${ROW})*)?\\]`);
const START_MS = field('start_ms', NUMBER);
const RATE_HZ = field('rate_hz', NUMBER);

/**
 * The text of the `samples` value of a batch_sensor_data frame the compiled schema passed
 * with no other keys than its own (so no nested object can hold a `"samples"` key, and the
 * value is arrays of numbers only). Null when it is not found as such: the caller then
 * serializes the parsed samples instead.
 *
 * The last `"samples"` followed by a colon is the key JSON.parse took (a repeated key: the
 * last wins). Inside a JSON string every quote is escaped, so `"samples"` followed by `:`
 * cannot lie in one; as a string value it is followed by `,` or `}` and is skipped.
 */
export function samplesText(frame: string): string | null {
  return lastValue(frame, SAMPLES);
}

/**
 * The operator batch's text from `start_ms` on, `"start_ms":…,"rate_hz":…,"samples":…`, each
 * value as the board wrote it (formatting a fractional time was a good part of what printing a
 * batch still cost). Same preconditions as samplesText; null when any of the three is not found
 * as such.
 */
export function batchTail(frame: string): string | null {
  const samples = samplesText(frame);
  if (samples === null) return null;
  const start = lastValue(frame, START_MS);
  const rate = start === null ? null : lastValue(frame, RATE_HZ);
  return rate === null ? null : `"start_ms":${start},"rate_hz":${rate},"samples":${samples}`;
}

/** Group 1 of the field's match at the last of its keys where it matches (see samplesText), or null. */
function lastValue(frame: string, { quoted, at }: Field): string | null {
  let before = frame.length;
  for (;;) {
    const k = before > 0 ? frame.lastIndexOf(quoted, before - 1) : -1;
    if (k < 0) return null;
    at.lastIndex = k;
    const m = at.exec(frame);
    if (m === null) {
      before = k;
      continue;
    }
    return m[1] ?? null;
  }
}

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

const QUOTE_KEY = '"samples"';
/** JSON's whitespace, and no other (`\s` takes more than JSON.parse does). */
const WS = '[ \\t\\n\\r]*';
const ROW = `\\[[0-9eE+\\-., \\t\\n\\r]*\\]${WS}`;
/**
 * At a `"samples"`: the key, its colon, and (group 1) arrays of numbers only up to the bracket
 * that closes the outer one. No colon: no match (the word was a string value). A colon but
 * anything else in the value (a string, a third level, a bracket left open): group 1 is absent.
 */
const SAMPLES_AT = new RegExp(`"samples"${WS}:${WS}(\\[${WS}(?:${ROW}(?:,${WS}${ROW})*)?\\])?`, 'y');

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
  let before = frame.length;
  for (;;) {
    const k = before > 0 ? frame.lastIndexOf(QUOTE_KEY, before - 1) : -1;
    if (k < 0) return null;
    SAMPLES_AT.lastIndex = k;
    const m = SAMPLES_AT.exec(frame);
    if (m === null) {
      before = k;
      continue;
    }
    return m[1] ?? null;
  }
}

/**
 * The operator fan-out sends each batch's samples as the board wrote them,
 * not parsed and printed again: formatting thirty doubles is most of what
 * serializing a batch costs, and the numbers an operator parses from the
 * board's own text are the ones the gateway parsed from it.
 */

const QUOTE_KEY = '"samples"';

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

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
    let i = k + QUOTE_KEY.length;
    while (isSpace(frame.charCodeAt(i))) i++;
    if (frame.charCodeAt(i) !== 0x3a) {
      before = k;
      continue;
    }
    i++;
    while (isSpace(frame.charCodeAt(i))) i++;
    return arrayAt(frame, i);
  }
}

/** The array of number arrays starting at `from`, or null if anything but numbers, commas, brackets and spaces is in it. */
function arrayAt(s: string, from: number): string | null {
  if (s.charCodeAt(from) !== 0x5b) return null;
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x5b) {
      if (++depth > 2) return null;
    } else if (c === 0x5d) {
      if (--depth === 0) return s.slice(from, i + 1);
    } else if (!((c >= 0x30 && c <= 0x39) || c === 0x2c || c === 0x2e || c === 0x2d || c === 0x2b || c === 0x65 || c === 0x45 || isSpace(c))) return null;
  }
  return null;
}

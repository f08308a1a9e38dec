/**
 * Times kept per connection or per board, as ms since this module loaded rather than since
 * 1970. A timestamp of today is a boxed number, 16 bytes of its own in every object that keeps
 * one; a small integer is kept in the object itself. Ten thousand idle boards keep several each.
 *
 * A difference of two timestamps is itself a boxed number even when whole, and a field that
 * was once given one is boxed for every object of its shape: `sinceLoad` gives the small
 * integer itself. Past 24 days of uptime the numbers no longer fit and are boxed again, still
 * exact.
 */
export const EPOCH = Date.now();

/** `t` (ms since 1970) as ms since EPOCH: a small integer while it fits one. */
export function sinceLoad(t: number): number {
  const r = t - EPOCH;
  return (r | 0) === r ? r | 0 : r;
}

/** Back to ms since 1970. */
export function fromLoad(t: number): number {
  return t + EPOCH;
}

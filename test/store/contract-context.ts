/** What the store contract's parts share: the store under test, how to reopen it, ids and rows. */
import type { MessageInsert, Store } from '../../main/gateway/store/types.js';

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0, 0);
/** A fixed instant plus ms, so expected values are exact. */
export const at = (ms: number) => new Date(T0 + ms);

export interface ContractContext {
  /** The store opened for the whole contract (valid from the parts' `before` hooks on). */
  store(): Store;
  /** Opens the same database again. */
  open(): Promise<Store>;
  /** An id no other test of the run uses. */
  uid(tag: string): string;
  /** A message row with defaults for what a test does not care about. */
  msg(m: Partial<MessageInsert> & Pick<MessageInsert, 'fromDeviceId'>): MessageInsert;
}

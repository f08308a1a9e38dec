import { describeError } from '../errors.js';

/**
 * An action of a store with `busy` and `error`: busy while it runs, its error (as the UI words
 * it) kept, `undefined` instead of a throw, so a view needs no try/catch.
 */
export function busyAct(set: (patch: { busy?: boolean; error?: string | null }) => void) {
  return async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    set({ busy: true, error: null });
    try {
      return await work();
    } catch (err) {
      set({ error: describeError(err) });
      return undefined;
    } finally {
      set({ busy: false });
    }
  };
}

/**
 * What every hub and part may be handed: the services that depend on nothing
 * else of the gateway. A hub names the ones it uses (`Pick<Base, ...>`) in its
 * constructor, so its dependencies are visible at the call site in
 * compose.ts and no hub reaches the rest of the gateway through a shared
 * context. This module is a leaf: it imports types only, nothing imports back.
 */
import type { Clock } from './clock.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { ResolvedOptions } from './options.js';
import type { Store } from './store/types.js';

/** Runs a store write whose failure must be logged and counted but not awaited by the sender. */
export type Persist = (work: Promise<unknown>, what: string) => void;

export interface Base {
  readonly options: ResolvedOptions;
  readonly store: Store;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly persist: Persist;
}

/** Live events to operators by topic (the operator hub; a stand-in in unit tests). */
export interface EventPublisher {
  publish(topic: string, payload: Record<string, unknown>): void;
}

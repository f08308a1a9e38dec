/**
 * V8 heap settings for a gateway's own process: `courtside serve` and the
 * desktop app call this before they start the gateway. An application that
 * embeds `startGateway` keeps its own settings; nothing here runs on import.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Allocation-site pretenuring off. V8 makes a site's objects straight in the
 * old generation once a collection finds nearly all of them alive. A gateway's
 * busiest sites make objects that live for one frame (a batch, its samples,
 * its fan-out entry), but a collection that runs in the middle of a frame finds
 * all of that frame's objects alive: one forced there by a large allocation (a
 * board's live-backfill ring, megabytes, made on its first frame) was enough.
 * From then on every batch was made in the old generation, where each one kept
 * its young samples alive through scavenges: at 50 boards the heap promoted
 * about 3 MB a second and ran a full collection every few seconds, and garbage
 * collection became the largest part of what the relay spends beyond a bare
 * one. Without pretenuring a short-lived object dies young whatever one
 * collection saw; a long-lived one is copied once more before it is promoted.
 *
 * Safe to call more than once; the flag is read at each collection.
 */
export function tuneHeapForStreaming(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}

/**
 * A board's acks of start_collection and stop_collection: where its session numbering begins
 * and ends. In a fleet the command may have been sent by another gateway; its row says which.
 */
import type { SessionDeps } from './manager.js';
import type { SessionFleet } from '../fleet/hooks.js';
import type { LiveSession } from './live.js';

/** What the ack handling reads and changes of the session manager. */
export interface AckHost {
  ctx: Pick<SessionDeps, 'store'>;
  fleet: SessionFleet | null;
  live: Map<string, LiveSession>;
  /** Board -> the session it records for. */
  activeByBoard: Map<string, string>;
  /** Board -> end (its clock) of the latest frame that went to the live view only. */
  liveEnd: Map<string, number>;
  refresh(sessionId: string): Promise<void>;
}

export function commandAcked(h: AckHost, deviceId: string, commandId: string, ok: boolean): void | Promise<void> {
  const s = h.live.get(h.activeByBoard.get(deviceId) ?? '');
  const feed = s?.feeds.get(deviceId);
  if (feed && commandId === feed.startCommand) {
    if (!feed.started) {
      feed.started = ok;
      feed.liveUntilMs = h.liveEnd.get(deviceId) ?? -Infinity;
    }
  } else if (feed && commandId === feed.stopCommand) {
    if (ok) feed.stopped = true;
  } else if (h.fleet) {
    // Sent by another gateway: the command's row says which session and what. The board's
    // next frames wait for this (the endpoint reads in order), so the ack still marks the switch.
    return ackFromStore(h, deviceId, commandId, ok);
  }
}

async function ackFromStore(h: AckHost, deviceId: string, commandId: string, ok: boolean): Promise<void> {
  const c = await h.ctx.store.getCommand(commandId).catch(() => undefined);
  const sessionId = (c?.params as { session_id?: unknown } | null | undefined)?.session_id;
  if (!c || c.deviceId !== deviceId || typeof sessionId !== 'string' || (c.command !== 'start_collection' && c.command !== 'stop_collection')) return;
  if (!h.live.has(sessionId)) await h.refresh(sessionId);
  const feed = h.live.get(sessionId)?.feeds.get(deviceId);
  if (!feed) return;
  if (c.command === 'start_collection') {
    feed.startCommand = commandId;
    if (!feed.started) {
      feed.started = ok;
      feed.liveUntilMs = h.liveEnd.get(deviceId) ?? -Infinity;
    }
  } else {
    feed.stopCommand = commandId;
    if (ok) feed.stopped = true;
  }
}

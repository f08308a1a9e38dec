/** Small pieces of the room hub that the player hub shares: ids, stored content, paged delivery. */
import { randomInt } from 'node:crypto';
import { ROOM_ID_ALPHABET, ROOM_ID_LENGTH } from '../../firmware-protocol/index.js';
import type { Peer } from './peer.js';

/** Queued messages read and sent per page on a reconnect; the next page waits until this one left the process. */
export const DELIVERY_PAGE = 16;
/** Resolves once everything sent to the peer so far has been handed to the kernel, or the socket closed. */
export async function flushed(peer: Peer): Promise<void> {
  // Frames in the priority backlog are written only as the socket drains: they go first.
  await peer.drained();
  return new Promise((resolve) => {
    if (!peer.open) return resolve();
    const done = () => (peer.ws.off('close', done), resolve());
    peer.ws.once('close', done);
    // A ping is written after every frame before it: its callback means they are out.
    peer.ws.ping(undefined, undefined, done);
  });
}

export function newRoomId(): string {
  let id = '';
  for (let i = 0; i < ROOM_ID_LENGTH; i++) id += ROOM_ID_ALPHABET[randomInt(ROOM_ID_ALPHABET.length)];
  return id;
}

/** Room ids are read aloud and typed by people: accept lower case and spaces around. */
export function normalizeRoomId(id: string): string {
  return id.trim().toUpperCase();
}

/** The content as it was sent: JSON values come back as values, text as text. */
export function storedContent(m: { content: string; contentJson: boolean }): unknown {
  if (!m.contentJson) return m.content;
  try {
    return JSON.parse(m.content) as unknown;
  } catch {
    return m.content;
  }
}

export function contentText(content: unknown): string {
  return typeof content === 'string' ? content : JSON.stringify(content ?? null);
}

/** The room protocol's message frame; a queued one from another room names it, an acked one carries its id. */
export function messageFrame(content: unknown, from: string, messageType: 'broadcast' | 'direct', at: Date, roomId: string | null = null, ackId: number | null = null): string {
  return JSON.stringify({
    type: 'message', content, from_device_id: from, message_type: messageType, timestamp: at.toISOString(),
    ...(roomId !== null ? { room_id: roomId } : {}), ...(ackId !== null ? { message_id: ackId, ack: true } : {}),
  });
}

/**
 * Rooms with their members and presence, and the live message log of the
 * room the operator has open. Membership changes arrive as `rooms` events;
 * rather than patch the list from each one (creates, joins, leaves and
 * reconnects interleave), the list is reloaded, at most every 250 ms.
 * Messages arrive as `messages` events and are appended to a bounded log.
 */
import { derived, writable, type Readable } from 'svelte/store';
import type { GatewayClient } from '../client.js';
import { describeError } from '../errors.js';
import type { EventFrame, RequestMap, RoomMessageEvent, RoomSummary, StoredMessage } from '../protocol.js';

/** A room nobody is in any more: still listed, with its messages, until retention deletes them. */
export type EmptyRoom = NonNullable<RequestMap['get_rooms'][1]['empty_rooms']>[number];

export interface LogEntry {
  key: string;
  room_id: string | null;
  from: string;
  to: string | null;
  kind: 'broadcast' | 'direct';
  content: string;
  at: string;
  /** queued: waiting for an offline recipient; delivered once it came back. */
  status: string | null;
}

export interface RoomsState {
  rooms: RoomSummary[];
  /** Rooms everyone left (an older gateway does not send them: empty). */
  emptyRooms: EmptyRoom[];
  signalingClients: string[];
  selected: string | null;
  log: LogEntry[];
  loading: boolean;
  error: string | null;
}

/** How many messages the open log keeps; older ones drop off the top. */
export const LOG_LIMIT = 500;

export function contentText(content: unknown): string {
  return typeof content === 'string' ? content : JSON.stringify(content);
}

export function entryFromStored(m: StoredMessage): LogEntry {
  return {
    key: `m${m.id}`,
    room_id: m.room_id,
    from: m.from_device_id,
    to: m.to_device_id,
    kind: m.message_type,
    content: contentText(m.content),
    at: m.sent_at,
    status: m.status ?? null,
  };
}

let liveKey = 0;
export function entryFromEvent(frame: EventFrame): LogEntry {
  const e = frame as unknown as Partial<Extract<RoomMessageEvent, { event: 'message' }>> & { at?: string };
  return {
    key: `e${++liveKey}`,
    room_id: e.room_id ?? null,
    from: String(e.from_device_id ?? ''),
    to: e.to_device_id ?? null,
    kind: e.message_type === 'direct' ? 'direct' : 'broadcast',
    content: contentText(e.content),
    at: String(e.sent_at ?? e.at),
    status: null,
  };
}

export function createRoomsStore(client: GatewayClient) {
  let state: RoomsState = { rooms: [], emptyRooms: [], signalingClients: [], selected: null, log: [], loading: false, error: null };
  const store = writable<RoomsState>(state);
  const set = (patch: Partial<RoomsState>) => store.set((state = { ...state, ...patch }));
  let reloadTimer: ReturnType<typeof setTimeout> | null = null;

  async function loadRooms(): Promise<void> {
    try {
      const r = await client.request('get_rooms', {});
      set({ rooms: r.rooms, emptyRooms: r.empty_rooms ?? [], signalingClients: r.signaling_clients, error: null });
    } catch (err) {
      set({ error: describeError(err) });
    }
  }

  function scheduleReload(): void {
    if (reloadTimer) return;
    reloadTimer = setTimeout(() => {
      reloadTimer = null;
      void loadRooms();
    }, 250);
  }

  async function select(roomId: string | null): Promise<void> {
    set({ selected: roomId, log: [] });
    if (!roomId) return;
    set({ loading: true });
    try {
      const r = await client.request('get_messages', { room_id: roomId, limit: 100 });
      if (state.selected !== roomId) return;
      // Stored messages come newest first; the log reads top to bottom.
      set({ log: r.messages.map(entryFromStored).reverse(), loading: false, error: null });
    } catch (err) {
      set({ loading: false, error: describeError(err) });
    }
  }

  function onMessage(e: EventFrame): void {
    if (e.event === 'message') {
      if (state.selected === null || e.room_id !== state.selected) return;
      set({ log: [...state.log, entryFromEvent(e)].slice(-LOG_LIMIT) });
    } else if (e.event === 'delivered') {
      const key = `m${String(e.message_id)}`;
      if (state.log.some((m) => m.key === key)) set({ log: state.log.map((m) => (m.key === key ? { ...m, status: 'delivered' } : m)) });
    }
  }

  /** A broadcast to the room, or a direct message when `target` is given. Resolves with the recipient count. */
  async function send(roomId: string, content: string, target?: string): Promise<number> {
    const r = await client.request('send_room_message', { room_id: roomId, content, ...(target ? { target_device_id: target } : {}) });
    return r.recipients;
  }

  /** device id -> room id, for the Devices view's room column. */
  const roomOf: Readable<ReadonlyMap<string, string>> = derived(store, (s) => {
    const m = new Map<string, string>();
    for (const r of s.rooms) for (const mem of r.members) m.set(mem.device_id, r.room_id);
    return m;
  });

  const offs: (() => void)[] = [];
  return {
    subscribe: store.subscribe as Readable<RoomsState>['subscribe'],
    roomOf,
    loadRooms,
    select,
    send,
    start(): void {
      if (offs.length) return;
      offs.push(client.watch(['rooms', 'messages']));
      offs.push(client.onEvent('rooms', scheduleReload));
      offs.push(client.onEvent('messages', onMessage));
      offs.push(
        client.onOpen(() => {
          void loadRooms();
          if (state.selected) void select(state.selected);
        }),
      );
      if (client.connection.status === 'open') void loadRooms();
    },
    stop(): void {
      for (const off of offs.splice(0)) off();
      if (reloadTimer) clearTimeout(reloadTimer);
      reloadTimer = null;
    },
  };
}

export type RoomsStore = ReturnType<typeof createRoomsStore>;

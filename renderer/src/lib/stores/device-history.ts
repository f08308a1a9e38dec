/**
 * One board's page: its history from `get_device_history`, a page per list, with
 * "older" fetching the next page of one list only. Reloaded when the board's status
 * changes or a command to it is answered (the `devices` and `commands` topics), at
 * most every 500 ms, so a chatty board does not turn the page into a request loop.
 */
import { writable, type Readable } from 'svelte/store';
import type { GatewayClient } from '../client.js';
import { describeError } from '../errors.js';
import type { EventFrame, RequestMap } from '../protocol.js';

export type DeviceHistory = RequestMap['get_device_history'][1];
export type HistoryList = 'statuses' | 'events' | 'commands' | 'sessions';

export interface DeviceHistoryState {
  history: DeviceHistory | null;
  loading: boolean;
  error: string | null;
}

/** Entries per page. */
export const PAGE = 25;

/** The time an entry is paged by. */
const atOf = (list: HistoryList, e: DeviceHistory[HistoryList][number]): string => (list === 'statuses' || list === 'events' ? (e as { at: string }).at : (e as { created_at: string }).created_at);

export function createDeviceHistory(client: GatewayClient, deviceId: string) {
  let state: DeviceHistoryState = { history: null, loading: false, error: null };
  const store = writable<DeviceHistoryState>(state);
  const set = (patch: Partial<DeviceHistoryState>) => store.set((state = { ...state, ...patch }));
  // How far each list was paged back: a reload keeps what the operator opened.
  const shown: Record<HistoryList, number> = { statuses: PAGE, events: PAGE, commands: PAGE, sessions: PAGE };
  let timer: ReturnType<typeof setTimeout> | null = null;

  async function load(): Promise<void> {
    set({ loading: true });
    try {
      const limit = Math.min(200, Math.max(...Object.values(shown)));
      const h = await client.request('get_device_history', { device_id: deviceId, limit });
      // Lists the operator paged less far are cut back to what they showed.
      for (const k of Object.keys(shown) as HistoryList[]) {
        if (h[k].length > shown[k]) {
          (h[k] as unknown[]) = h[k].slice(0, shown[k]);
          h.more[k] = true;
        }
      }
      set({ history: h, loading: false, error: null });
    } catch (err) {
      set({ loading: false, error: describeError(err) });
    }
  }

  async function older(list: HistoryList): Promise<void> {
    const h = state.history;
    const last = h?.[list].at(-1);
    if (!h || !last) return;
    try {
      const r = await client.request('get_device_history', { device_id: deviceId, limit: PAGE, only: list, before: atOf(list, last) });
      const cur = state.history!;
      shown[list] = cur[list].length + r[list].length;
      set({ history: { ...cur, [list]: [...cur[list], ...r[list]], more: { ...cur.more, [list]: r.more[list] } }, error: null });
    } catch (err) {
      set({ error: describeError(err) });
    }
  }

  function soon(): void {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      void load();
    }, 500);
  }

  const mine = (e: EventFrame) => e.device_id === deviceId || (e.device as { device_id?: string } | undefined)?.device_id === deviceId;
  const offs: (() => void)[] = [];
  return {
    subscribe: store.subscribe as Readable<DeviceHistoryState>['subscribe'],
    load,
    older,
    start(): void {
      offs.push(client.watch(['devices', 'commands']));
      offs.push(client.onEvent('devices', (e) => mine(e) && soon()));
      offs.push(client.onEvent('commands', (e) => mine(e) && soon()));
      offs.push(client.onOpen(() => void load()));
      if (client.connection.status === 'open') void load();
    },
    stop(): void {
      for (const off of offs.splice(0)) off();
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}

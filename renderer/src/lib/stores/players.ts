/**
 * Players (firmware-protocol/players.ts): the list of every player sessions
 * name, and one player's sessions with their figures, for the Players view.
 * Read when the view opens and again when a session completes or changes.
 */
import { writable, type Readable } from 'svelte/store';
import type { GatewayClient } from '../client.js';
import { describeError } from '../errors.js';
import type { EventFrame } from '../protocol.js';
import type { PlayerReply, PlayerSummaryJson } from '../../../../firmware-protocol/index.js';

export type PlayerDetail = Omit<PlayerReply, 'type' | 'id'>;

export interface PlayersState {
  list: PlayerSummaryJson[];
  /** The player open, once get_player answered. */
  open: PlayerDetail | null;
  loading: boolean;
  error: string | null;
}

export function createPlayersStore(client: GatewayClient) {
  let state: PlayersState = { list: [], open: null, loading: false, error: null };
  const store = writable<PlayersState>(state);
  const set = (patch: Partial<PlayersState>) => store.set((state = { ...state, ...patch }));
  /** The player the view wants (null: the list). */
  let wanted: string | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;

  async function load(): Promise<void> {
    set({ loading: true });
    try {
      const r = await client.request('list_players', {});
      set({ list: r.players, error: null });
      if (wanted) {
        const name = wanted;
        const p = await client.request('get_player', { player_id: name });
        if (wanted === name) set({ open: { player_id: p.player_id, sessions: p.sessions, profile: p.profile } });
      }
    } catch (err) {
      set({ error: describeError(err), ...(wanted ? { open: null } : {}) });
    } finally {
      set({ loading: false });
    }
  }

  const offs: (() => void)[] = [];
  return {
    subscribe: store.subscribe as Readable<PlayersState>['subscribe'],
    load,
    /** Opens a player (null: back to the list). */
    async show(name: string | null): Promise<void> {
      wanted = name;
      set({ open: state.open?.player_id === name ? state.open : null, error: null });
      await load();
    },
    start(): void {
      if (offs.length) return;
      offs.push(client.watch(['sessions']));
      offs.push(
        client.onEvent('sessions', (e: EventFrame) => {
          // A finished analysis or a new name changes the figures; a burst of events reads once.
          if (e.event !== 'state') return;
          if (timer) clearTimeout(timer);
          timer = setTimeout(() => void load(), 300);
        }),
      );
      offs.push(client.onOpen(() => void load()));
      if (client.connection.status === 'open') void load();
    },
    stop(): void {
      if (timer) clearTimeout(timer);
      for (const off of offs.splice(0)) off();
    },
  };
}

export type PlayersStore = ReturnType<typeof createPlayersStore>;

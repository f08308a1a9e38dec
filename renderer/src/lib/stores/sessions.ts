/**
 * Badminton sessions (firmware-protocol/sessions.ts): the history with its
 * search, the session open in the detail pane, and the actions (create,
 * start, stop, export). `sessions` events carry the whole session object, so
 * progress through the states shows without polling.
 *
 * The analysis summary's shape belongs to the gateway's sessions part;
 * `readResults` accepts the analysis result (strokes + summary) for the whole
 * session or per board, and ignores what it does not know.
 */
import { writable, type Readable } from 'svelte/store';
import type { GatewayClient } from '../client.js';
import { describeError } from '../errors.js';
import { sessionOf, type EventFrame, type SessionJson, type SessionState } from '../protocol.js';
import type { LiveStroke, RequestFields, SessionSignal as SessionSignalBody } from '../../../../firmware-protocol/index.js';

export interface StrokeView {
  device_id: string | null;
  /** ms in the recording's time base. */
  t: number;
  type: string;
  speedKmh: number;
  peakDps: number;
  saturated: boolean;
  confidence: number | null;
}

export interface ResultsView {
  strokes: StrokeView[];
  countsByType: Record<string, number>;
  count: number;
  durationS: number | null;
  strokesPerMinute: number | null;
  maxSpeedKmh: number | null;
  medianSpeedKmh: number | null;
}

const n = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function strokesFrom(list: unknown, deviceId: string | null): StrokeView[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter((s): s is Record<string, unknown> => typeof s === 'object' && s !== null)
    .map((s) => ({
      device_id: typeof s.device_id === 'string' ? s.device_id : deviceId,
      t: n(s.t_ms) ?? n(s.t) ?? n(s.time_ms) ?? 0,
      type: typeof s.type === 'string' ? s.type : 'unknown',
      speedKmh: n(s.speed_kmh) ?? n(s.racketHeadSpeedKmh) ?? 0,
      peakDps: n(s.peak_dps) ?? n(s.peakAngularSpeedDps) ?? 0,
      saturated: s.saturated === true,
      confidence: n(s.confidence),
    }));
}

/**
 * The results in one shape; null before analysis. `strokes` is the list
 * get_session sends beside the session (the summary holds only counts);
 * strokes inside the summary, whole or per board, are read too.
 */
export function readResults(summary: unknown, strokeList?: unknown): ResultsView | null {
  if (typeof summary !== 'object' || summary === null) return null;
  const s = summary as Record<string, unknown>;
  let strokes: StrokeView[] = strokesFrom(strokeList, null).concat(strokesFrom(s.strokes, null));
  const boards = s.boards ?? s.per_board ?? s.devices;
  if (boards && typeof boards === 'object') {
    const entries = Array.isArray(boards)
      ? boards.map((b: Record<string, unknown>) => [String(b.device_id ?? ''), b] as const)
      : Object.entries(boards as Record<string, unknown>);
    for (const [id, b] of entries) if (b && typeof b === 'object') strokes = strokes.concat(strokesFrom((b as Record<string, unknown>).strokes, id || null));
  }
  strokes.sort((a, b) => a.t - b.t);
  const inner = (typeof s.summary === 'object' && s.summary !== null ? s.summary : s) as Record<string, unknown>;
  let counts = (inner.countsByType ?? inner.counts_by_type ?? inner.counts) as Record<string, number> | undefined;
  if (!counts || typeof counts !== 'object') {
    counts = {};
    for (const st of strokes) counts[st.type] = (counts[st.type] ?? 0) + 1;
  }
  const speeds = strokes.map((x) => x.speedKmh).sort((a, b) => a - b);
  return {
    strokes,
    countsByType: counts,
    count: n(inner.count) ?? n(inner.strokes_total) ?? strokes.length,
    durationS: n(inner.durationS) ?? n(inner.duration_s),
    strokesPerMinute: n(inner.strokesPerMinute) ?? n(inner.strokes_per_minute),
    maxSpeedKmh: n(inner.maxSpeedKmh) ?? n(inner.max_speed_kmh) ?? (speeds.length ? speeds[speeds.length - 1]! : null),
    medianSpeedKmh: n(inner.medianSpeedKmh) ?? n(inner.median_speed_kmh) ?? (speeds.length ? speeds[Math.floor(speeds.length / 2)]! : null),
  };
}

/** The states in order, for the progress line; `failed` replaces the rest when it happens. */
export const STATE_ORDER: SessionState[] = ['created', 'recording', 'uploading', 'analyzing', 'complete'];

/** Per board, times (ms, the recording's time base) and gyroscope magnitude (degrees/s). */
/** What the timeline draws: the boards of the session's chart signal. */
export type SessionSignal = Pick<SessionSignalBody, 'boards'>;

export interface SessionsState {
  list: SessionJson[];
  search: string;
  stateFilter: SessionState | '';
  selected: SessionJson | null;
  /** Strokes of the open session (get_session sends them once it is complete). */
  strokes: unknown[];
  loading: boolean;
  busy: boolean;
  error: string | null;
}

/** The new-session form: create_session's fields less the room. */
export type NewSession = Omit<RequestFields<'create_session'>, 'room_id'>;

export function createSessionsStore(client: GatewayClient) {
  let state: SessionsState = { list: [], search: '', stateFilter: '', selected: null, strokes: [], loading: false, busy: false, error: null };
  const store = writable<SessionsState>(state);
  const set = (patch: Partial<SessionsState>) => store.set((state = { ...state, ...patch }));
  let searchTimer: ReturnType<typeof setTimeout> | null = null;
  /** The session asked for by open(), until get_session answers. */
  let opening: string | null = null;

  async function load(): Promise<void> {
    set({ loading: true });
    try {
      const r = await client.request('list_sessions', {
        limit: 200,
        ...(state.search.trim() ? { search: state.search.trim() } : {}),
        ...(state.stateFilter ? { state: state.stateFilter } : {}),
      });
      set({ list: r.sessions, loading: false, error: null });
    } catch (err) {
      set({ loading: false, error: describeError(err) });
    }
  }

  function upsert(s: SessionJson): void {
    const i = state.list.findIndex((x) => x.session_id === s.session_id);
    const list = i >= 0 ? state.list.map((x, j) => (j === i ? s : x)) : [s, ...state.list];
    const wasOpen = state.selected?.session_id === s.session_id ? state.selected : null;
    set({ list, selected: wasOpen ? s : state.selected });
    // The strokes come with get_session only: fetch them when the open session completes.
    if (wasOpen && s.state === 'complete' && wasOpen.state !== 'complete') void fetchOpen(s.session_id);
  }

  async function fetchOpen(sessionId: string): Promise<void> {
    try {
      const r = await client.request('get_session', { session_id: sessionId });
      // Still the one wanted: open, or asked for by id before the list had it (a deep link).
      if (state.selected?.session_id !== sessionId && opening !== sessionId) return;
      opening = null;
      const s = sessionOf(r);
      set({ selected: s, strokes: Array.isArray((r as { strokes?: unknown }).strokes) ? (r as { strokes: unknown[] }).strokes : [] });
      const i = state.list.findIndex((x) => x.session_id === sessionId);
      if (i >= 0) set({ list: state.list.map((x, j) => (j === i ? s : x)) });
    } catch (err) {
      set({ error: describeError(err) });
    }
  }

  /** A stroke found while recording: the open session's board shows it now, not at the next progress event. */
  function liveStroke(e: EventFrame): void {
    const sel = state.selected;
    if (!sel || sel.session_id !== e.session_id || sel.state !== 'recording') return;
    const stroke = e.stroke as LiveStroke;
    const count = Number(e.count);
    const progress = sel.progress.map((p) => (p.device_id === e.device_id && (p.live_strokes ?? 0) <= count ? { ...p, live_strokes: count, last_stroke: stroke } : p));
    set({ selected: { ...sel, progress } });
  }

  async function act(work: () => Promise<SessionJson>): Promise<SessionJson | null> {
    set({ busy: true, error: null });
    try {
      const s = await work();
      upsert(s);
      return s;
    } catch (err) {
      set({ error: describeError(err) });
      return null;
    } finally {
      set({ busy: false });
    }
  }

  const offs: (() => void)[] = [];
  return {
    subscribe: store.subscribe as Readable<SessionsState>['subscribe'],
    load,
    setSearch(search: string): void {
      set({ search });
      if (searchTimer) clearTimeout(searchTimer);
      searchTimer = setTimeout(() => void load(), 250);
    },
    setStateFilter(stateFilter: SessionState | ''): void {
      set({ stateFilter });
      void load();
    },
    async open(sessionId: string | null): Promise<void> {
      opening = null;
      if (!sessionId) return set({ selected: null, strokes: [] });
      const known = state.list.find((s) => s.session_id === sessionId) ?? null;
      opening = sessionId;
      set({ selected: known, strokes: [], error: null });
      await fetchOpen(sessionId);
    },
    async create(form: NewSession): Promise<SessionJson | null> {
      const s = await act(async () => sessionOf(await client.request('create_session', form)));
      if (s) set({ selected: s, strokes: [] });
      return s;
    },
    /** Player, court and notes (null clears); the list and the open session follow. */
    describe: (id: string, patch: { player_id?: string | null; board_players?: Record<string, string> | null; court?: string | null; notes?: string | null }) =>
      act(async () => sessionOf(await client.request('update_session', { session_id: id, ...patch }))),
    /** Deletes a session that is not running; it leaves the list and, if open, the detail. */
    async remove(id: string): Promise<boolean> {
      set({ busy: true, error: null });
      try {
        await client.request('delete_session', { session_id: id });
        set({ list: state.list.filter((x) => x.session_id !== id), ...(state.selected?.session_id === id ? { selected: null, strokes: [] } : {}) });
        return true;
      } catch (err) {
        set({ error: describeError(err) });
        return false;
      } finally {
        set({ busy: false });
      }
    },
    startSession: (id: string) => act(async () => sessionOf(await client.request('start_session', { session_id: id }))),
    stopSession: (id: string) => act(async () => sessionOf(await client.request('stop_session', { session_id: id }))),
    /** The export zip's bytes and file name. */
    async exportZip(id: string): Promise<{ data: ArrayBuffer; filename: string; type: string } | null> {
      set({ error: null });
      try {
        const f = await client.download(`/api/sessions/${encodeURIComponent(id)}/export`);
        return { ...f, filename: f.filename.endsWith('.zip') ? f.filename : `session-${id}.zip` };
      } catch (err) {
        set({ error: describeError(err) });
        return null;
      }
    },
    clearError: () => set({ error: null }),
    /** A corrections request answered the open session anew (its summary and strokes): show that. */
    showCorrected(session: SessionJson, strokes: unknown[]): void {
      upsert(session);
      if (state.selected?.session_id === session.session_id) set({ strokes });
    },
    /**
     * A thinned signal of the session for the stroke timeline, from
     * `GET /api/sessions/:id/signal` when the gateway offers it; null otherwise
     * (the timeline then shows the strokes alone).
     */
    async signal(id: string): Promise<SessionSignal | null> {
      try {
        const r = await client.http<{ boards?: SessionSignal['boards'] }>(`/api/sessions/${encodeURIComponent(id)}/signal?points=2000`);
        return Array.isArray(r?.boards) ? { boards: r.boards } : null;
      } catch {
        return null;
      }
    },
    start(): void {
      if (offs.length) return;
      offs.push(client.watch(['sessions', 'strokes']));
      offs.push(
        client.onEvent('sessions', (e: EventFrame) => {
          const s = e.session as SessionJson | undefined;
          if (s && typeof s.session_id === 'string') upsert(s);
        }),
      );
      offs.push(client.onEvent('strokes', liveStroke));
      offs.push(client.onOpen(() => void load()));
      if (client.connection.status === 'open') void load();
    },
    stop(): void {
      for (const off of offs.splice(0)) off();
    },
  };
}

export type SessionsStore = ReturnType<typeof createSessionsStore>;

/**
 * The Overview's numbers: the gateway's status, polled once a second while
 * connected, and per-second rates derived from its running totals (the
 * sparklines). The history is a fixed-length window, so it never grows.
 */
import { writable, type Readable } from 'svelte/store';
import type { GatewayClient } from '../client.js';
import { describeError } from '../errors.js';
import type { NotificationFrame, SystemStatus } from '../protocol.js';

export interface RatePoint {
  at: number;
  /** Frames received by the gateway per second, all endpoints. */
  messages: number;
  /** IMU samples received per second. */
  samples: number;
}

export interface StatusState {
  status: SystemStatus | null;
  rates: RatePoint[];
  error: string | null;
  /** Last notifications from the gateway (system_notification), newest first. */
  notifications: NotificationFrame[];
}

export interface StatusStoreOptions {
  intervalMs?: number;
  /** Rate points kept. Default 60 (a minute at 1 s). */
  historyLength?: number;
}

/** Per-second rates between two status snapshots; null when the totals went backwards (gateway restarted). */
export function ratesBetween(prev: { at: number; status: SystemStatus }, next: { at: number; status: SystemStatus }): RatePoint | null {
  const dt = (next.at - prev.at) / 1000;
  if (dt <= 0) return null;
  const dm = next.status.totals.frames_in - prev.status.totals.frames_in;
  const ds = next.status.totals.sensor_samples - prev.status.totals.sensor_samples;
  if (dm < 0 || ds < 0) return null;
  return { at: next.at, messages: dm / dt, samples: ds / dt };
}

/** What the operator should know about, in words; empty when all is well. */
export function warningsFor(status: SystemStatus | null, connected: boolean): string[] {
  const out: string[] = [];
  if (!connected) out.push('Not connected to the gateway: the numbers on this page are not live.');
  if (!status) return out;
  if (status.totals.store_errors > 0) out.push(`${status.totals.store_errors} database writes failed since start. Check the disk and the gateway's log.`);
  if (status.urls.operator.length === 0) out.push('The gateway has no network address other than this computer: phones and boards cannot reach it.');
  if (status.device_auth === 'open') out.push('Boards may join without a token (lab mode). Start the gateway with --device-auth token to require one.');
  if (status.commands_pending > 0) out.push(`${status.commands_pending} commands wait for boards that are offline.`);
  return out;
}

export function createStatusStore(client: GatewayClient, options: StatusStoreOptions = {}) {
  const intervalMs = options.intervalMs ?? 1000;
  const historyLength = options.historyLength ?? 60;
  const store = writable<StatusState>({ status: null, rates: [], error: null, notifications: [] });
  let state: StatusState = { status: null, rates: [], error: null, notifications: [] };
  let prev: { at: number; status: SystemStatus } | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let inFlight = false;
  const set = (patch: Partial<StatusState>) => store.set((state = { ...state, ...patch }));

  async function refresh(): Promise<void> {
    if (inFlight || client.connection.status !== 'open') return;
    inFlight = true;
    try {
      const status = await client.request('get_system_status', {});
      const now = { at: Date.now(), status };
      const point = prev ? ratesBetween(prev, now) : null;
      prev = now;
      const rates = point ? [...state.rates, point].slice(-historyLength) : state.rates;
      set({ status, rates, error: null });
    } catch (err) {
      set({ error: describeError(err) });
    } finally {
      inFlight = false;
    }
  }

  const offs: (() => void)[] = [];
  return {
    subscribe: store.subscribe as Readable<StatusState>['subscribe'],
    refresh,
    start(): void {
      if (timer) return;
      offs.push(client.onOpen(() => void refresh()));
      offs.push(
        client.onNotification((n) => set({ notifications: [n, ...state.notifications].slice(0, 20) })),
      );
      timer = setInterval(() => void refresh(), intervalMs);
      void refresh();
    },
    stop(): void {
      if (timer) clearInterval(timer);
      timer = null;
      for (const off of offs.splice(0)) off();
    },
  };
}

export type StatusStore = ReturnType<typeof createStatusStore>;

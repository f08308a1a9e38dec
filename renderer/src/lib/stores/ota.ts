/**
 * Firmware over the LAN (firmware-protocol/ota.ts): the firmware library,
 * the rollouts with each board's state and progress, and board tags. Kept
 * current from topic `ota` (board progress, rollout state) and `devices`
 * (tags and versions arrive with the device list store).
 */
import { writable, type Readable } from 'svelte/store';
import type { GatewayClient } from '../client.js';
import { busyAct } from './busy-act.js';
import { describeError } from '../errors.js';
import type { FirmwareEntry, Rollout, RolloutDevice } from '../../../../firmware-protocol/ota.js';

export type { FirmwareEntry, Rollout, RolloutDevice };

export interface RolloutOptions {
  canary_percent: number;
  max_concurrent: number;
  max_failures: number;
  skip_up_to_date: boolean;
}

export interface OtaState {
  firmware: FirmwareEntry[];
  rollouts: Rollout[];
  /** Tags by board. */
  tags: Record<string, string[]>;
  error: string | null;
  busy: boolean;
}

export function createOtaStore(client: GatewayClient) {
  let state: OtaState = { firmware: [], rollouts: [], tags: {}, error: null, busy: false };
  const store = writable<OtaState>(state);
  const set = (patch: Partial<OtaState>) => store.set((state = { ...state, ...patch }));
  const offs: (() => void)[] = [];

  async function load(): Promise<void> {
    try {
      const [fw, ro, tg] = await Promise.all([client.request('firmware_list', {}), client.request('ota_list_rollouts', {}), client.request('list_device_tags', {})]);
      set({ firmware: fw.firmware, rollouts: ro.rollouts, tags: Object.fromEntries(tg.devices.map((d) => [d.device_id, d.tags])), error: null });
    } catch (err) {
      set({ error: describeError(err) });
    }
  }

  function upsert(r: Rollout): void {
    const i = state.rollouts.findIndex((x) => x.rollout_id === r.rollout_id);
    set({ rollouts: i === -1 ? [...state.rollouts, r] : state.rollouts.map((x, j) => (j === i ? r : x)) });
  }

  async function refreshRollout(id: string): Promise<void> {
    try {
      upsert((await client.request('ota_get_rollout', { rollout_id: id })).rollout);
    } catch {
      /* the next event or load tries again */
    }
  }

  function onEvent(e: Record<string, unknown>): void {
    if (e.event === 'device' && typeof e.rollout_id === 'string') {
      const d = e.device as RolloutDevice;
      const r = state.rollouts.find((x) => x.rollout_id === e.rollout_id);
      if (!r) return void refreshRollout(e.rollout_id);
      upsert({ ...r, devices: r.devices.map((x) => (x.device_id === d.device_id ? d : x)) });
    } else if (e.event === 'rollout') {
      const id = (e.rollout as { rollout_id: string }).rollout_id;
      void refreshRollout(id);
    } else if (e.event === 'firmware') {
      void load();
    } else if (e.event === 'tags' && typeof e.device_id === 'string') {
      set({ tags: { ...state.tags, [e.device_id]: e.tags as string[] } });
    }
  }

  const act = busyAct(set);

  return {
    subscribe: store.subscribe as Readable<OtaState>['subscribe'],
    start(): void {
      offs.push(client.watch(['ota']), client.onEvent('ota', (e) => onEvent(e as unknown as Record<string, unknown>)), client.onOpen(() => void load()));
      void load();
    },
    stop(): void {
      while (offs.length) offs.pop()!();
    },
    upload: (name: string, data: ArrayBuffer) =>
      act(async () => {
        const r = await client.http<{ firmware: FirmwareEntry }>(`/api/firmware?name=${encodeURIComponent(name)}`, { method: 'POST', raw: data });
        await load();
        return r.firmware;
      }),
    remove: (firmwareId: string) => act(async () => (await client.request('firmware_delete', { firmware_id: firmwareId }), await load())),
    /** An update of one board, a selection, or every board with a tag. */
    rollOut: (firmwareId: string, target: { devices: string[] } | { tag: string }, o: RolloutOptions) =>
      act(async () => {
        const r = (await client.request('ota_start_rollout', { firmware_id: firmwareId, ...target, ...o })).rollout;
        upsert(r);
        return r;
      }),
    control: (id: string, what: 'ota_pause_rollout' | 'ota_resume_rollout' | 'ota_stop_rollout' | 'ota_retry_failed') =>
      act(async () => upsert((await client.request(what, { rollout_id: id })).rollout)),
    setTags: (deviceId: string, tags: string[]) =>
      act(async () => {
        const r = await client.request('set_device_tags', { device_id: deviceId, tags });
        set({ tags: { ...state.tags, [deviceId]: r.tags } });
      }),
    clearError: () => set({ error: null }),
  };
}

export type OtaStore = ReturnType<typeof createOtaStore>;

/** The boards a tag filter leaves: every board when the filter is empty. */
export function filterByTag<T extends { device_id: string }>(boards: readonly T[], tags: Record<string, string[]>, tag: string): T[] {
  return tag === '' ? [...boards] : boards.filter((b) => (tags[b.device_id] ?? []).includes(tag));
}

/** Parses a comma- or space-separated tag list as typed by an operator. */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((t) => t.trim()).filter(Boolean))];
}

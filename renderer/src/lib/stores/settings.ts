/**
 * Settings: device tokens (list, mint, revoke) and the gateway's own settings
 * as far as the gateway exposes them. A minted token is shown once, so it is
 * kept here until the operator dismisses it, not in the list.
 *
 * Network interfaces for mDNS and the data folder come from the discovery
 * and status parts when the gateway has them (`get_discovery_settings`,
 * `set_discovery_interfaces`); without them the view says how to set them at start.
 * The start-up settings (port, database, device auth, discovery) are the
 * gateway's settings file (`get_settings`, `set_settings`): they apply at the
 * next start, and the reply says which saved ones differ from what runs now.
 */
import { writable, type Readable } from 'svelte/store';
import type { GatewayClient } from '../client.js';
import { busyAct } from './busy-act.js';
import { describeError, GatewayRequestError } from '../errors.js';
import type { DeviceToken, DiscoveryInterface, Settings, SettingsReply } from '../protocol.js';

export type InterfaceChoice = DiscoveryInterface;

export interface SettingsState {
  tokens: DeviceToken[];
  /** The token just minted (shown once), with its device. */
  minted: { device_id: string; token: string } | null;
  /** null: the gateway has no discovery part to ask. */
  interfaces: InterfaceChoice[] | null;
  /** The settings file and what runs now; null until loaded (or on a gateway without the settings part). */
  startup: Omit<SettingsReply, 'type' | 'id'> | null;
  error: string | null;
  busy: boolean;
}

export function createSettingsStore(client: GatewayClient) {
  let state: SettingsState = { tokens: [], minted: null, interfaces: null, startup: null, error: null, busy: false };
  const store = writable<SettingsState>(state);
  const set = (patch: Partial<SettingsState>) => store.set((state = { ...state, ...patch }));

  async function load(): Promise<void> {
    try {
      const r = await client.request('list_device_tokens', {});
      set({ tokens: r.tokens, error: null });
    } catch (err) {
      set({ error: describeError(err) });
    }
    try {
      set({ startup: await client.request('get_settings', {}) });
    } catch (err) {
      if (!(err instanceof GatewayRequestError && err.code === 'UNKNOWN_TYPE')) set({ error: describeError(err) });
    }
    try {
      const d = await client.requestAny('get_discovery_settings');
      const list = Array.isArray(d.interfaces) ? (d.interfaces as InterfaceChoice[]) : null;
      set({ interfaces: list });
    } catch (err) {
      if (!(err instanceof GatewayRequestError && err.code === 'UNKNOWN_TYPE')) set({ error: describeError(err) });
      else set({ interfaces: null });
    }
  }

  const act = busyAct(set);

  return {
    subscribe: store.subscribe as Readable<SettingsState>['subscribe'],
    load,
    async mint(deviceId: string, label: string): Promise<void> {
      const r = await act(() => client.request('create_device_token', { device_id: deviceId, ...(label ? { label } : {}) }));
      if (r) {
        set({ minted: { device_id: r.device_id, token: r.token } });
        await load();
      }
    },
    async revoke(deviceId: string): Promise<void> {
      const r = await act(() => client.request('revoke_device_token', { device_id: deviceId }));
      if (r) await load();
    },
    async setInterfaces(names: string[]): Promise<void> {
      const r = await act(() => client.requestAny('set_discovery_interfaces', { interfaces: names }));
      if (r) await load();
    },
    /** Saves the whole settings file (fields left out go back to their defaults). */
    async saveStartup(settings: Settings): Promise<boolean> {
      const r = await act(() => client.request('set_settings', { settings }));
      if (r) set({ startup: r });
      return r !== undefined;
    },
    dismissMinted: () => set({ minted: null }),
  };
}

export type SettingsStore = ReturnType<typeof createSettingsStore>;

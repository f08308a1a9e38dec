/**
 * Every board the operator can see, merged by device id from three places:
 * the gateway's own list (boards that connected at least once), the LAN
 * (mDNS browse by the gateway's discovery part) and USB (serial ports the
 * gateway's USB part reports). Live updates come from the `devices`,
 * `commands`, `discovery` and `usb` topics; the lists are reloaded on every
 * (re)connect so nothing missed while offline stays stale.
 */
import { writable, type Readable } from 'svelte/store';
import type { GatewayClient } from '../client.js';
import { describeError, GatewayRequestError } from '../errors.js';
import type { DeviceInfo, DiscoveredDevice, EventFrame } from '../protocol.js';

export type DeviceSource = 'gateway' | 'lan' | 'usb';

export interface UsbPortInfo {
  path: string;
  device_id?: string | null;
  manufacturer?: string | null;
  serial_number?: string | null;
  vendor_id?: string | null;
  product_id?: string | null;
  [k: string]: unknown;
}

export interface DeviceRow {
  device_id: string;
  sources: DeviceSource[];
  online: boolean;
  ip: string | null;
  /** Epoch ms (gateway clock) of the last frame, for the age shown next to the status. */
  lastSeenAt: number | null;
  battery: number | null;
  rssi: number | null;
  firmware: string | null;
  /** Board-reported state (idle, recording...). */
  state: string | null;
  room: string | null;
  usbPort: string | null;
  lanAddress: string | null;
  /** The latest command sent from this UI and what became of it. */
  lastCommand: { command: string; state: 'queued' | 'pushed' | 'acked' | 'failed'; at: number; detail?: string } | null;
}

export interface DevicesState {
  rows: DeviceRow[];
  loading: boolean;
  error: string | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const ms = (iso: string | number | null | undefined): number | null => (iso === null || iso === undefined ? null : typeof iso === 'number' ? iso : Date.parse(iso) || null);

/** Pure merge, so the rules are unit-tested: gateway data wins, the others fill in what it lacks. */
export function mergeDevices(input: {
  devices: DeviceInfo[];
  discovered: DiscoveredDevice[];
  usb: UsbPortInfo[];
  roomOf: ReadonlyMap<string, string>;
  commands: ReadonlyMap<string, DeviceRow['lastCommand']>;
}): DeviceRow[] {
  const rows = new Map<string, DeviceRow>();
  const row = (id: string): DeviceRow => {
    let r = rows.get(id);
    if (!r) {
      r = { device_id: id, sources: [], online: false, ip: null, lastSeenAt: null, battery: null, rssi: null, firmware: null, state: null, room: null, usbPort: null, lanAddress: null, lastCommand: null };
      rows.set(id, r);
    }
    return r;
  };
  for (const d of input.devices) {
    const r = row(d.device_id);
    r.sources.push('gateway');
    r.online = d.online;
    r.ip = d.ip;
    r.lastSeenAt = ms(d.last_seen_at) ?? ms(d.disconnected_at) ?? ms(d.connected_at);
    r.battery = num(d.status?.battery);
    r.rssi = num(d.status?.rssi);
    r.firmware = str(d.status?.firmware);
    r.state = str(d.status?.state);
    r.room = str(d.status?.room_id);
  }
  for (const d of input.discovered) {
    const r = row(d.device_id);
    r.sources.push('lan');
    r.lanAddress ??= d.addresses?.[0] ?? d.host ?? null;
    r.firmware ??= str(d.txt?.fw);
    if (!r.sources.includes('gateway')) r.lastSeenAt = ms(d.last_seen);
  }
  for (const p of input.usb) {
    const r = row(str(p.device_id) ?? p.path);
    r.sources.push('usb');
    r.usbPort = p.path;
  }
  for (const r of rows.values()) {
    r.room = input.roomOf.get(r.device_id) ?? r.room;
    r.lastCommand = input.commands.get(r.device_id) ?? null;
  }
  // Online first, then the ones the gateway knows, then by name: the order the operator scans.
  return [...rows.values()].sort(
    (a, b) => Number(b.online) - Number(a.online) || Number(b.sources.includes('gateway')) - Number(a.sources.includes('gateway')) || a.device_id.localeCompare(b.device_id, undefined, { numeric: true }),
  );
}

/** Replies of parts that may be missing (older gateway, part not started): UNKNOWN_TYPE means "none". */
async function optionalList<T>(p: Promise<Record<string, unknown>>, key: string): Promise<T[]> {
  try {
    const r = await p;
    const v = r[key];
    return Array.isArray(v) ? (v as T[]) : [];
  } catch (err) {
    if (err instanceof GatewayRequestError && (err.code === 'UNKNOWN_TYPE' || err.code === 'BAD_FRAME')) return [];
    throw err;
  }
}

export function createDevicesStore(client: GatewayClient, roomOf: Readable<ReadonlyMap<string, string>>) {
  const devices = new Map<string, DeviceInfo>();
  const discovered = new Map<string, DiscoveredDevice>();
  let usb: UsbPortInfo[] = [];
  let rooms: ReadonlyMap<string, string> = new Map();
  const commands = new Map<string, DeviceRow['lastCommand']>();
  const commandDevice = new Map<string, string>();
  const store = writable<DevicesState>({ rows: [], loading: false, error: null });
  let state: DevicesState = { rows: [], loading: false, error: null };
  const publish = (patch: Partial<DevicesState> = {}) =>
    store.set((state = { ...state, ...patch, rows: mergeDevices({ devices: [...devices.values()], discovered: [...discovered.values()], usb, roomOf: rooms, commands }) }));

  async function load(): Promise<void> {
    publish({ loading: true });
    try {
      const [list, lan, ports] = await Promise.all([
        client.request('get_device_list', {}),
        optionalList<DiscoveredDevice>(client.requestAny('get_discovered'), 'devices'),
        optionalList<UsbPortInfo>(client.requestAny('usb_list_ports'), 'ports'),
      ]);
      devices.clear();
      for (const d of list.devices) devices.set(d.device_id, d);
      discovered.clear();
      for (const d of lan) if (d && typeof d.device_id === 'string') discovered.set(d.device_id, d);
      usb = ports.filter((p) => p && typeof p.path === 'string');
      publish({ loading: false, error: null });
    } catch (err) {
      publish({ loading: false, error: describeError(err) });
    }
  }

  function onDeviceEvent(e: EventFrame): void {
    const d = e.device as DeviceInfo | undefined;
    if (d && typeof d.device_id === 'string') devices.set(d.device_id, d);
    publish();
  }

  function onCommandEvent(e: EventFrame): void {
    const id = String(e.command_id ?? '');
    const deviceId = typeof e.device_id === 'string' ? e.device_id : commandDevice.get(id);
    if (!deviceId) return;
    const cur = commands.get(deviceId);
    if (e.event === 'acked' && cur) {
      commands.set(deviceId, { ...cur, state: e.ok === false ? 'failed' : 'acked', at: Date.now(), detail: e.result ? JSON.stringify(e.result) : undefined });
      publish();
    }
  }

  function onDiscoveryEvent(e: EventFrame): void {
    const d = (e.device ?? e.service) as DiscoveredDevice | undefined;
    if (!d || typeof d.device_id !== 'string') return;
    if (e.event === 'removed') discovered.delete(d.device_id);
    else discovered.set(d.device_id, d);
    publish();
  }

  function onUsbEvent(e: EventFrame): void {
    if (Array.isArray(e.ports)) {
      usb = (e.ports as UsbPortInfo[]).filter((p) => p && typeof p.path === 'string');
      publish();
    }
  }

  /** Sends a board command; the row shows queued/pushed, then acked or failed when the board answers. */
  async function sendCommand(deviceId: string, command: string, params?: unknown): Promise<void> {
    commands.set(deviceId, { command, state: 'queued', at: Date.now() });
    publish();
    try {
      const r = await client.request('send_command', { device_id: deviceId, command, ...(params === undefined ? {} : { params }) });
      commandDevice.set(r.command_id, deviceId);
      if (commandDevice.size > 500) commandDevice.delete(commandDevice.keys().next().value!);
      const cur = commands.get(deviceId);
      if (cur?.state === 'queued') commands.set(deviceId, { ...cur, state: r.pushed ? 'pushed' : 'queued' });
      publish();
    } catch (err) {
      commands.set(deviceId, { command, state: 'failed', at: Date.now(), detail: describeError(err) });
      publish();
      throw err;
    }
  }

  const offs: (() => void)[] = [];
  return {
    subscribe: store.subscribe as Readable<DevicesState>['subscribe'],
    load,
    sendCommand,
    startCollection: (id: string, rateHz?: number) => sendCommand(id, 'start_collection', rateHz ? { rate_hz: rateHz } : {}),
    stopCollection: (id: string) => sendCommand(id, 'stop_collection', {}),
    start(): void {
      if (offs.length) return;
      offs.push(client.watch(['devices', 'commands', 'discovery', 'usb']));
      offs.push(client.onEvent('devices', onDeviceEvent));
      offs.push(client.onEvent('commands', onCommandEvent));
      offs.push(client.onEvent('discovery', onDiscoveryEvent));
      offs.push(client.onEvent('usb', onUsbEvent));
      offs.push(client.onOpen(() => void load()));
      offs.push(
        roomOf.subscribe((m) => {
          rooms = m;
          publish();
        }),
      );
      if (client.connection.status === 'open') void load();
    },
    stop(): void {
      for (const off of offs.splice(0)) off();
    },
  };
}

export type DevicesStore = ReturnType<typeof createDevicesStore>;

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
import type { BoardState, CommandEvent, DeviceEvent, DeviceInfo, DiscoveredDevice, DiscoveryEvent, EventFrame, UsbEventFrame, UsbPortInfo } from '../protocol.js';

/** Where the UI saw a board: connected to the gateway (now or before), on the LAN (mDNS), on a USB port. */
export type DeviceSource = 'gateway' | 'lan' | 'usb';

/**
 * A board as the device list or a `devices` event has it: events carry the
 * gateway's own view, without `source` and `mdns`, which only the list adds.
 */
export type DeviceEntry = BoardState & Partial<Pick<DeviceInfo, 'source' | 'mdns'>>;
/** A LAN service; only its id is required, so a partial record from an older gateway still merges. */
export type LanEntry = Pick<DiscoveredDevice, 'device_id'> & Partial<DiscoveredDevice>;
/** A serial port, with the board id when the USB part knows which board is on it. */
export type UsbEntry = Pick<UsbPortInfo, 'path'> & Partial<UsbPortInfo> & { device_id?: string | null };

export interface DeviceRow {
  device_id: string;
  sources: DeviceSource[];
  online: boolean;
  /** Has connected to the gateway at least once (a board only seen on the LAN has not). */
  connected: boolean;
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
  /** The commands the board says it executes (its status' `commands`); null when it does not say. */
  commands: string[] | null;
  /** The session the board records for, from its status. */
  sessionId: string | null;
  /** The gateway's tags of the board (OTA rollouts, selection by tag). */
  tags: string[];
  /** The latest command sent from this UI and what became of it; `result` is the board's answer. */
  lastCommand: { command: string; state: 'queued' | 'pushed' | 'acked' | 'failed'; at: number; detail?: string; result?: unknown } | null;
}

/** One board's line of a command sent to several boards at once. */
export interface BatchRow {
  device_id: string;
  state: 'sending' | 'queued' | 'pushed' | 'acked' | 'failed';
  command_id: string | null;
  result?: unknown;
  detail?: string;
}

/** A command sent to a selection of boards, each board's answer as it comes. */
export interface CommandBatch {
  id: number;
  command: string;
  at: number;
  rows: BatchRow[];
}

/** Boards one batch may address: the device list's page, not the whole fleet at once by accident. */
export const BATCH_MAX = 500;
/** Sends in flight at once while a batch goes out. */
const BATCH_PARALLEL = 8;

/** The ports the operator said a board is on (kept in this browser), by device id. */
const LINKS_KEY = 'courtside.usbLinks';
/** The browser's storage; absent under Node (the store's tests) and in some private modes. */
const storage = () => (globalThis as { localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage;
function loadLinks(): Record<string, string> {
  try {
    const v = JSON.parse(storage()?.getItem(LINKS_KEY) ?? '{}') as unknown;
    return v && typeof v === 'object' ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
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
  devices: DeviceEntry[];
  discovered: LanEntry[];
  usb: UsbEntry[];
  roomOf: ReadonlyMap<string, string>;
  commands: ReadonlyMap<string, DeviceRow['lastCommand']>;
}): DeviceRow[] {
  const rows = new Map<string, DeviceRow>();
  const row = (id: string): DeviceRow => {
    let r = rows.get(id);
    if (!r) {
      r = { device_id: id, sources: [], online: false, connected: false, ip: null, lastSeenAt: null, battery: null, rssi: null, firmware: null, state: null, room: null, usbPort: null, lanAddress: null, commands: null, sessionId: null, tags: [], lastCommand: null };
      rows.set(id, r);
    }
    return r;
  };
  for (const d of input.devices) {
    const r = row(d.device_id);
    // The gateway lists boards it only saw over mDNS too (`source: 'lan'`): seen, never connected.
    const lanOnly = d.source === 'lan' && !d.online;
    if (lanOnly) {
      r.sources.push('lan');
      r.lanAddress ??= d.ip ?? d.mdns?.[0]?.addresses[0] ?? null;
    } else {
      r.sources.push('gateway');
      r.connected = true;
      if (d.mdns?.length) {
        r.sources.push('lan');
        r.lanAddress ??= d.mdns[0]!.addresses[0] ?? null;
      }
    }
    r.online = d.online;
    r.ip = lanOnly ? null : d.ip;
    r.lastSeenAt = ms(d.last_seen_at) ?? ms(d.disconnected_at) ?? ms(d.connected_at);
    r.battery = num(d.status?.battery);
    r.rssi = num(d.status?.rssi);
    r.firmware = str(d.status?.firmware);
    r.state = str(d.status?.state);
    r.room = str(d.status?.room_id);
    const cmds = d.status?.commands;
    r.commands = Array.isArray(cmds) ? cmds.filter((c): c is string => typeof c === 'string' && c !== '').slice(0, 64) : null;
    r.sessionId = str(d.status?.session_id);
    r.tags = Array.isArray(d.tags) ? d.tags.filter((t): t is string => typeof t === 'string') : [];
  }
  for (const d of input.discovered) {
    const r = row(d.device_id);
    if (!r.sources.includes('lan')) r.sources.push('lan');
    r.lanAddress ??= d.addresses?.[0] ?? d.host ?? null;
    r.firmware ??= str(d.txt?.fw);
    if (!r.connected) r.lastSeenAt = ms(d.last_seen) ?? r.lastSeenAt;
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
  // Online first, then the ones that have connected, then by name: the order the operator scans.
  return [...rows.values()].sort(
    (a, b) => Number(b.online) - Number(a.online) || Number(b.connected) - Number(a.connected) || a.device_id.localeCompare(b.device_id, undefined, { numeric: true }),
  );
}

/** The boards the Live view offers: those that have connected to the gateway (only they can stream samples). */
export function liveChoices(rows: readonly DeviceRow[]): DeviceRow[] {
  return rows.filter((r) => r.connected);
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
  const devices = new Map<string, DeviceEntry>();
  const discovered = new Map<string, LanEntry>();
  let usb: UsbEntry[] = [];
  let rooms: ReadonlyMap<string, string> = new Map();
  const commands = new Map<string, DeviceRow['lastCommand']>();
  const commandDevice = new Map<string, string>();
  /** The id of the command each row shows (unknown until send_command's reply). */
  const lastId = new Map<string, string>();
  const store = writable<DevicesState>({ rows: [], loading: false, error: null });
  let state: DevicesState = { rows: [], loading: false, error: null };
  let links = loadLinks();
  const linked = () => {
    const byPort = new Map(Object.entries(links).map(([id, port]) => [port, id]));
    return usb.map((p) => (p.device_id || !byPort.has(p.path) ? p : { ...p, device_id: byPort.get(p.path)! }));
  };
  const publish = (patch: Partial<DevicesState> = {}) =>
    store.set((state = { ...state, ...patch, rows: mergeDevices({ devices: [...devices.values()], discovered: [...discovered.values()], usb: linked(), roomOf: rooms, commands }) }));
  const batchStore = writable<CommandBatch | null>(null);
  let batch: CommandBatch | null = null;
  let batchIds = 0;
  const early = new Map<string, Partial<BatchRow>>();
  const setBatch = (b: CommandBatch | null) => batchStore.set((batch = b));
  const patchBatch = (pred: (r: BatchRow) => boolean, patch: Partial<BatchRow>) => {
    if (batch && batch.rows.some(pred)) setBatch({ ...batch, rows: batch.rows.map((r) => (pred(r) ? { ...r, ...patch } : r)) });
  };

  async function load(): Promise<void> {
    publish({ loading: true });
    try {
      const [list, lan, ports] = await Promise.all([
        client.request('get_device_list', {}),
        optionalList<LanEntry>(client.requestAny('get_discovered'), 'devices'),
        optionalList<UsbEntry>(client.requestAny('usb_list_ports'), 'ports'),
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
    const ev = e as unknown as DeviceEvent;
    if (!('device' in ev)) return;
    const d = ev.device;
    if (d && typeof d.device_id === 'string') {
      // The event is the gateway's own view: it has connected, whatever mDNS said before; keep what mDNS sees.
      const was = devices.get(d.device_id);
      devices.set(d.device_id, { ...d, source: d.online ? 'connected' : 'known', mdns: was?.mdns ?? null });
    }
    publish();
  }

  function onCommandEvent(frame: EventFrame): void {
    const e = frame as unknown as CommandEvent;
    const id = String(e.command_id ?? '');
    const deviceId = typeof e.device_id === 'string' ? e.device_id : commandDevice.get(id);
    if (!deviceId) return;
    const answer: Partial<BatchRow> | null =
      e.event === 'acked' ? { state: e.ok === false ? 'failed' : 'acked', result: e.result ?? null } : e.event === 'failed' ? { state: 'failed', detail: 'no answer: retries spent' } : null;
    if (answer && batch) {
      // The answer can beat the send_command reply: kept until the reply names the command.
      if (batch.rows.some((r) => r.command_id === id)) patchBatch((r) => r.command_id === id, answer);
      else if (batch.rows.some((r) => r.state === 'sending' && r.device_id === deviceId)) early.set(id, answer);
    }
    const cur = commands.get(deviceId);
    // The row shows its own command's answer, not that of another sent to the board meanwhile (a batch).
    const own = lastId.get(deviceId);
    if (own !== undefined ? own !== id : cur?.state !== 'queued') return;
    if (e.event === 'acked' && cur) {
      commands.set(deviceId, { ...cur, state: e.ok === false ? 'failed' : 'acked', at: Date.now(), result: e.result ?? null });
      publish();
    }
  }

  function onDiscoveryEvent(frame: EventFrame): void {
    const e = frame as unknown as DiscoveryEvent;
    const d = e.device as LanEntry | undefined;
    if (!d || typeof d.device_id !== 'string') return;
    if (e.event === 'removed') discovered.delete(d.device_id);
    else discovered.set(d.device_id, d);
    publish();
  }

  function onUsbEvent(frame: EventFrame): void {
    // A board written over USB from this gateway is on that port now: its page shows the port's output.
    const written = frame.event === 'provision_done' && frame.ok === true ? (frame.result as { device_id?: unknown } | null)?.device_id : frame.event === 'bulk_board' && frame.result === 'ok' ? frame.device_id : null;
    if (typeof written === 'string' && written !== '' && typeof frame.port === 'string') linkUsb(written, frame.port);
    const e = frame as unknown as UsbEventFrame;
    if (e.event === 'ports_changed' && Array.isArray(e.ports)) {
      usb = (e.ports as UsbEntry[]).filter((p) => p && typeof p.path === 'string');
      publish();
    }
  }

  /** Sends a board command; the row shows queued/pushed, then acked or failed when the board answers. */
  async function sendCommand(deviceId: string, command: string, params?: unknown): Promise<void> {
    commands.set(deviceId, { command, state: 'queued', at: Date.now() });
    lastId.delete(deviceId);
    publish();
    try {
      const r = await client.request('send_command', { device_id: deviceId, command, ...(params === undefined ? {} : { params }) });
      commandDevice.set(r.command_id, deviceId);
      lastId.set(deviceId, r.command_id);
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

  /** One command to each of `ids`; each board's row of the batch follows its command to the answer. */
  async function sendMany(ids: readonly string[], command: string, params?: unknown): Promise<void> {
    const list = [...new Set(ids)].slice(0, BATCH_MAX);
    const mine: CommandBatch = { id: ++batchIds, command, at: Date.now(), rows: list.map((device_id) => ({ device_id, state: 'sending', command_id: null })) };
    setBatch(mine);
    early.clear();
    let next = 0;
    const worker = async () => {
      while (next < list.length) {
        const id = list[next++]!;
        try {
          const r = await client.request('send_command', { device_id: id, command, ...(params === undefined ? {} : { params }) });
          // Only while this batch is the one shown; an answer read before this reply keeps its state.
          if (batch?.id !== mine.id) continue;
          const answered = early.get(r.command_id);
          early.delete(r.command_id);
          patchBatch((x) => x.device_id === id, { command_id: r.command_id, state: r.pushed ? 'pushed' : 'queued', ...answered });
        } catch (err) {
          if (batch?.id === mine.id) patchBatch((x) => x.device_id === id, { state: 'failed', detail: describeError(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BATCH_PARALLEL, list.length) }, worker));
  }

  /** Says which USB port a board is on (null: none), kept in this browser. */
  function linkUsb(deviceId: string, port: string | null): void {
    links = { ...links };
    for (const [id, p] of Object.entries(links)) if (id === deviceId || p === port) delete links[id];
    if (port) links[deviceId] = port;
    try {
      storage()?.setItem(LINKS_KEY, JSON.stringify(links));
    } catch {
      /* private mode: the link lasts as long as the page */
    }
    publish();
  }

  const offs: (() => void)[] = [];
  return {
    subscribe: store.subscribe as Readable<DevicesState>['subscribe'],
    batch: { subscribe: batchStore.subscribe } as Readable<CommandBatch | null>,
    load,
    sendCommand,
    sendMany,
    clearBatch: () => setBatch(null),
    linkUsb,
    /** The serial ports the gateway lists. */
    ports: () => usb.map((p) => p.path),
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

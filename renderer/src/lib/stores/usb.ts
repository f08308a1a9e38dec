/**
 * Provisioning over USB (firmware-protocol/usb.ts): the serial ports, the
 * uploaded firmware images, running jobs with their progress, the serial
 * monitor's lines, and the bulk queue. Long jobs answer at once with a job;
 * progress and results arrive as `usb` events, which update the job here.
 * A gateway without the USB part answers UNKNOWN_TYPE: `available` is false.
 */
import { writable, type Readable } from 'svelte/store';
import type { GatewayClient } from '../client.js';
import { describeError, GatewayRequestError } from '../errors.js';
import type { EventFrame, FirmwareMeta, UsbBoardInfo, UsbBulkRow, UsbBulkStatus, UsbEventFrame, UsbJob as UsbJobJson, UsbPortInfo, UsbWriteProgress } from '../protocol.js';

export type { FirmwareMeta };
export type UsbPort = UsbPortInfo;

/** A write's progress as the UI shows it; bulk boards and older gateways may leave out the file counts. */
export type Progress = Pick<UsbWriteProgress, 'bytes' | 'total' | 'percent' | 'rate_bps'> & Partial<Pick<UsbWriteProgress, 'file_index' | 'files'>>;

/** A job as the UI tracks it: the gateway's job, its progress as shown. */
export type UsbJob = Omit<UsbJobJson, 'progress'> & { progress: Progress | null };

export type BulkRow = UsbBulkRow;

/** The bulk status with every field filled in (the gateway sends only `state` and `rows` before a queue first ran). */
export type BulkStatus = Required<Omit<UsbBulkStatus, 'rows' | 'active'>>;

export interface MonitorLine {
  key: number;
  port: string;
  text: string;
  level?: string;
  at?: string | number;
}

export interface UsbState {
  /** null until asked; false when the gateway has no USB part. */
  available: boolean | null;
  ports: UsbPort[];
  firmware: FirmwareMeta[];
  jobs: Record<string, UsbJob>;
  /** Progress of the board the bulk queue is writing, by port. */
  bulkProgress: Record<string, Progress>;
  bulk: BulkStatus | null;
  bulkRows: BulkRow[];
  monitor: { port: string | null; status: string | null; lines: MonitorLine[] };
  error: string | null;
}

/** Serial monitor lines kept; older ones scroll away. */
export const MONITOR_LINES = 1000;

/** The bulk status in one shape: the gateway sends only `{state, rows}` while no queue has run. */
export function normalizeBulk(v: unknown): { status: BulkStatus | null; rows: BulkRow[] | null } {
  if (typeof v !== 'object' || v === null) return { status: null, rows: null };
  const b = v as Partial<UsbBulkStatus>;
  const status: BulkStatus = {
    state: b.state ?? 'stopped',
    current: b.current ?? null,
    queued: Array.isArray(b.queued) ? b.queued : [],
    done: b.done ?? 0,
    ok: b.ok ?? 0,
    failed: b.failed ?? 0,
    next_id: b.next_id ?? '',
  };
  return { status, rows: Array.isArray(b.rows) ? b.rows : null };
}

export function createUsbStore(client: GatewayClient) {
  let state: UsbState = { available: null, ports: [], firmware: [], jobs: {}, bulkProgress: {}, bulk: null, bulkRows: [], monitor: { port: null, status: null, lines: [] }, error: null };
  const store = writable<UsbState>(state);
  const set = (patch: Partial<UsbState>) => store.set((state = { ...state, ...patch }));
  let lineKey = 0;

  const patchJob = (id: string, patch: Partial<UsbJob>) => {
    const cur = state.jobs[id];
    if (cur) set({ jobs: { ...state.jobs, [id]: { ...cur, ...patch } } });
  };

  async function load(): Promise<void> {
    try {
      const [ports, fw, bulk] = await Promise.all([client.requestAny('usb_list_ports'), client.requestAny('usb_list_firmware'), client.requestAny('usb_bulk_status')]);
      const b = normalizeBulk(bulk.bulk);
      set({
        available: true,
        ports: Array.isArray(ports.ports) ? (ports.ports as UsbPort[]) : [],
        firmware: Array.isArray(fw.firmware) ? (fw.firmware as FirmwareMeta[]) : [],
        bulk: b.status?.done || b.status?.state !== 'stopped' ? b.status : null,
        bulkRows: b.rows ?? state.bulkRows,
        error: null,
      });
    } catch (err) {
      if (err instanceof GatewayRequestError && err.code === 'UNKNOWN_TYPE') set({ available: false });
      else set({ error: describeError(err) });
    }
  }

  function onEvent(frame: EventFrame): void {
    const e = frame as unknown as UsbEventFrame;
    const jobId = 'job_id' in e && typeof e.job_id === 'string' ? e.job_id : null;
    switch (e.event) {
      case 'ports_changed':
        if (Array.isArray(e.ports)) set({ ports: e.ports as UsbPort[] });
        return;
      case 'board_info':
        if (jobId) patchJob(jobId, { info: e.info });
        return;
      case 'flash_progress': {
        const p = { bytes: Number(e.bytes), total: Number(e.total), percent: Number(e.percent), rate_bps: Number(e.rate_bps) };
        if (jobId) patchJob(jobId, { progress: p });
        else if (e.bulk && typeof e.port === 'string') set({ bulkProgress: { ...state.bulkProgress, [e.port]: p } });
        return;
      }
      case 'flash_done':
      case 'provision_done':
        if (jobId) patchJob(jobId, { state: e.state, result: e.result ?? null, error: e.error ?? null, info: e.info ?? state.jobs[jobId]?.info ?? null });
        return;
      case 'monitor_line':
        if (e.port !== state.monitor.port) return;
        set({ monitor: { ...state.monitor, lines: [...state.monitor.lines, { key: ++lineKey, port: String(e.port), text: String(e.text ?? ''), level: e.level ?? undefined, at: e.at }].slice(-MONITOR_LINES) } });
        return;
      case 'monitor_status':
        if (e.port === state.monitor.port) set({ monitor: { ...state.monitor, status: String(e.status) } });
        return;
      case 'bulk_board': {
        const { topic: _t, at: _a, event: _e, type: _ty, ...row } = e;
        set({ bulkRows: [...state.bulkRows, row].slice(-500) });
        return;
      }
      case 'bulk_status': {
        set({ bulk: normalizeBulk(e).status });
        return;
      }
    }
  }

  async function act<T>(work: () => Promise<T>): Promise<T | null> {
    set({ error: null });
    try {
      return await work();
    } catch (err) {
      set({ error: describeError(err) });
      return null;
    }
  }

  function track(job: unknown): UsbJob | null {
    const j = job as UsbJob | undefined;
    if (!j || typeof j.id !== 'string') return null;
    set({ jobs: { ...state.jobs, [j.id]: j } });
    return j;
  }

  const offs: (() => void)[] = [];
  return {
    subscribe: store.subscribe as Readable<UsbState>['subscribe'],
    load,
    /** Uploads a firmware image (raw bytes); it is then listed and can be flashed by id. */
    uploadFirmware: (name: string, data: ArrayBuffer) =>
      act(async () => {
        const r = await client.http<{ firmware: FirmwareMeta }>(`/api/usb/firmware?name=${encodeURIComponent(name)}`, { method: 'POST', raw: data });
        await load();
        return r.firmware;
      }),
    /**
     * Deletes an image from the firmware library; resolves null, or why not (the gateway refuses
     * one a running or paused rollout uses and names it), for the view to show beside the button.
     */
    async deleteFirmware(firmwareId: string): Promise<string | null> {
      try {
        await client.request('firmware_delete', { firmware_id: firmwareId });
      } catch (err) {
        return describeError(err);
      }
      await load();
      return null;
    },
    flash: (port: string, firmwareId: string, erase: boolean) => act(async () => track((await client.requestAny('usb_flash', { port, firmware_id: firmwareId, erase })).job)),
    provision: (port: string, config: Record<string, unknown>, mintToken: boolean) =>
      act(async () => track((await client.requestAny('usb_provision', { port, config, mint_token: mintToken })).job)),
    improvWifi: (port: string, ssid: string, password: string) => act(() => client.requestAny('usb_improv_wifi', { port, ssid, password }, 60_000)),
    boardInfo: (port: string) => act(async () => (await client.requestAny('usb_board_info', { port }, 60_000)).info as UsbBoardInfo),
    cancel: (jobId: string) => act(async () => track((await client.requestAny('usb_cancel', { job_id: jobId })).job)),
    async monitor(port: string | null): Promise<void> {
      const prev = state.monitor.port;
      if (prev && prev !== port) await act(() => client.requestAny('usb_monitor_stop', { port: prev }));
      set({ monitor: { port, status: null, lines: prev === port ? state.monitor.lines : [] } });
      if (port) {
        const r = await act(() => client.requestAny('usb_monitor_start', { port }));
        if (state.monitor.port !== port) return;
        if (r) set({ monitor: { ...state.monitor, status: state.monitor.status ?? (r.running === false ? 'closed' : 'open') } });
        else set({ monitor: { port: null, status: null, lines: [] } });
      }
    },
    bulkStart: (opts: { firmware_id: string; id_template: string; start: number; config: Record<string, unknown>; erase: boolean }) =>
      act(async () => {
        set({ bulkRows: [], bulkProgress: {} });
        const r = await client.requestAny('usb_bulk_start', opts);
        set({ bulk: normalizeBulk(r.bulk).status });
      }),
    bulkStop: () => act(async () => set({ bulk: normalizeBulk((await client.requestAny('usb_bulk_stop')).bulk).status })),
    bulkReport: () => act(() => client.download('/api/usb/bulk/report.csv')),
    start(): void {
      if (offs.length) return;
      offs.push(client.watch(['usb']));
      offs.push(client.onEvent('usb', onEvent));
      offs.push(client.onOpen(() => void load()));
      if (client.connection.status === 'open') void load();
    },
    stop(): void {
      if (state.monitor.port) void client.requestAny('usb_monitor_stop', { port: state.monitor.port }).catch(() => {});
      set({ monitor: { port: null, status: null, lines: [] } });
      for (const off of offs.splice(0)) off();
    },
  };
}

export type UsbStore = ReturnType<typeof createUsbStore>;

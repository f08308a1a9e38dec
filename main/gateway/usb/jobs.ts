/**
 * USB jobs (flash, provision): each runs on one port with progress, cancel
 * and a record an operator can ask for later. The manager decides which port
 * a job may have; this keeps the running and finished jobs and tells
 * operators when one starts, how far it got and how it ended.
 */
import { randomUUID } from 'node:crypto';
import type { UsbEvent } from '../../../firmware-protocol/usb.js';
import type { Clock } from '../clock.js';
import { errorText, isUsbError, usbError, type UsbError } from './errors.js';
import type { BoardInfo, WriteProgress } from './esp.js';

export type JobKind = 'flash' | 'provision' | 'board_info';

export interface UsbJob {
  id: string;
  kind: JobKind;
  port: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  started_at: string;
  finished_at: string | null;
  info: BoardInfo | null;
  progress: WriteProgress | null;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
}

export type JobRun = (job: UsbJob, signal: AbortSignal) => Promise<Record<string, unknown>>;

const MAX_JOBS_KEPT = 100;

type Entry = UsbJob & { abort: AbortController; done: Promise<void> };

export class UsbJobs {
  private readonly jobs = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly publish: (event: UsbEvent, body: Record<string, unknown>) => void,
    private readonly log?: (msg: string) => void,
  ) {}

  /** Starts `run` through `onPort` (which holds the port for it) and returns the job as it is now. */
  start(kind: JobKind, port: string, onPort: (run: () => Promise<Record<string, unknown>>) => Promise<Record<string, unknown>>, run: JobRun): UsbJob {
    const abort = new AbortController();
    const job: UsbJob = { id: randomUUID(), kind, port, state: 'running', started_at: new Date(this.clock.now()).toISOString(), finished_at: null, info: null, progress: null, result: null, error: null };
    const entry: Entry = Object.assign(job, { abort, done: Promise.resolve() });
    this.jobs.set(job.id, entry);
    this.trim();
    this.publish('job_started', { job_id: job.id, kind, port });
    entry.done = onPort(() => run(job, abort.signal)).then(
      (result) => {
        job.state = 'done';
        job.result = result;
      },
      (err: unknown) => {
        const e: UsbError = isUsbError(err) ? err : usbError('FLASH_FAILED', errorText(err));
        job.state = e.code === 'CANCELLED' || abort.signal.aborted ? 'cancelled' : 'failed';
        job.error = e.toJSON();
        if (!isUsbError(err)) this.log?.(`usb ${kind} on ${port}: ${errorText(err)}`);
      },
    ).then(() => {
      job.finished_at = new Date(this.clock.now()).toISOString();
      this.publish(kind === 'provision' ? 'provision_done' : 'flash_done', { job_id: job.id, kind, port, ok: job.state === 'done', state: job.state, info: job.info, result: job.result, error: job.error });
    });
    return view(entry);
  }

  /** Board info and write progress of a running job, kept on it and told to operators (progress at most ten a second). */
  hooks(job: UsbJob): { onInfo: (info: BoardInfo) => void; onProgress: (p: WriteProgress) => void } {
    let last = -Infinity;
    return {
      onInfo: (info) => {
        job.info = info;
        this.publish('board_info', { job_id: job.id, port: job.port, info });
      },
      onProgress: (p) => {
        job.progress = p;
        const now = this.clock.now();
        // Always the first and the last.
        if (p.bytes !== 0 && p.bytes !== p.total && now - last < 100) return;
        last = now;
        this.publish('flash_progress', { job_id: job.id, port: job.port, ...p });
      },
    };
  }

  get(id: string): UsbJob {
    return view(this.entry(id));
  }

  /** Waits for a job to finish (tests, CLI-like callers). */
  async settled(id: string): Promise<UsbJob> {
    const j = this.entry(id);
    await j.done;
    return view(j);
  }

  list(): UsbJob[] {
    return [...this.jobs.values()].map(view);
  }

  cancel(id: string): UsbJob {
    const j = this.entry(id);
    if (j.state === 'running') j.abort.abort();
    return view(j);
  }

  get running(): number {
    return [...this.jobs.values()].filter((j) => j.state === 'running').length;
  }

  /** Cancels the running jobs and waits for every job to end. */
  async close(): Promise<void> {
    for (const j of this.jobs.values()) if (j.state === 'running') j.abort.abort();
    await Promise.all([...this.jobs.values()].map((j) => j.done));
  }

  private entry(id: string): Entry {
    const j = this.jobs.get(id);
    if (!j) throw usbError('JOB_NOT_FOUND', id);
    return j;
  }

  /** Finished jobs beyond the newest hundred are forgotten; running ones never. */
  private trim(): void {
    for (const [id, j] of this.jobs) {
      if (this.jobs.size <= MAX_JOBS_KEPT) break;
      if (j.state !== 'running') this.jobs.delete(id);
    }
  }
}

function view(j: UsbJob): UsbJob {
  const { id, kind, port, state, started_at, finished_at, info, progress, result, error } = j;
  return { id, kind, port, state, started_at, finished_at, info, progress, result, error };
}

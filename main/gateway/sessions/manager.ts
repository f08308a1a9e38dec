/**
 * Session lifecycle (created -> recording -> uploading -> analyzing ->
 * complete | failed) and the sample sink the board endpoint hands frames to.
 *
 * Per board it tracks which seqs it has accepted (for gap checks) and which
 * are on disk (for progress). Accepted-but-not-yet-durable chunks are never
 * lost to a gap check: they sit in the writer until written, and a gateway
 * crash leaves them unacked on the board, which sends them again.
 */
import { randomBytes } from 'node:crypto';
import type { Core } from '../core.js';
import { gatewayError } from '../errors.js';

/** What the session manager uses of the core. */
export type SessionDeps = Pick<Core, 'store' | 'clock' | 'log' | 'boards' | 'commands' | 'operators' | 'users'>;
import { NotStored, type IncomingBatch, type SampleSink, type SinkResult, type UploadResult } from '../samples.js';
import type { ChunkStats, SessionRow, SessionState } from '../store/types.js';
import { IngestWriter, packSamples } from './ingest.js';
import { runAnalysis } from './analysis-run.js';
import { missingSeqs, progressFrom, sessionJson, storedProgress, type BoardProgress } from './json.js';
import { frameEndMs, idlessRefusal, newFeed, type BoardFeed } from './feed.js';
import { boardFromStore, refreshFromStore, type SessionTables } from './shared.js';
import type { SessionFleet } from '../fleet/hooks.js';
import type { TimerHandle } from '../clock.js';


export interface LiveSession {
  row: SessionRow;
  boards: Map<string, BoardProgress>;
  /** Per board: where its session numbering begins and ends (feed.ts). */
  feeds: Map<string, BoardFeed>;
  analyzing: Promise<void> | null;
  lastProgressEvent: number;
  /** A fleet's completion check reading the store (one at a time; `recheck` asks for another). */
  checking: Promise<void> | null;
  recheck: boolean;
}

/** How often a fleet gateway looks again at uploads finished on other gateways (events may be lost). */
const FLEET_CHECK_MS = 2000;

/** Seqs per resend frame: keeps the frame well under the board's receive buffer. */
const MAX_RESEND_SEQS = 500;

export function newSessionId(): string {
  return 's-' + randomBytes(5).toString('hex');
}

export class SessionManager implements SampleSink {
  private readonly live = new Map<string, LiveSession>();
  /** Board -> the session it records for (recording or uploading). */
  private readonly activeByBoard = new Map<string, string>();
  /** Board -> end (its clock) of the latest frame that went to the live view only. */
  private readonly liveEnd = new Map<string, number>();

  private fleetTimer: TimerHandle | undefined;
  /** Sessions this gateway saw close (a frame naming one is refused without asking the store). */
  private readonly closedHere = new Set<string>();

  constructor(
    private readonly ctx: SessionDeps,
    readonly writer: IngestWriter,
    /** Other gateways on the same database (a fleet): sessions started there, boards that moved. */
    private readonly fleet: SessionFleet | null = null,
  ) {
    if (fleet) {
      fleet.onChange((id) => void this.refresh(id).catch((err: unknown) => ctx.log.warn('session refresh from the store failed', { session_id: id, error: String(err) })));
      this.fleetTimer = ctx.clock.setInterval(() => {
        for (const s of this.live.values()) if (s.row.state === 'uploading') this.checkComplete(s);
      }, FLEET_CHECK_MS);
    }
    writer.onWritten = (chunks) => {
      for (const c of chunks) {
        const s = this.live.get(c.sessionId);
        const b = s?.boards.get(c.deviceId);
        if (!s || !b || b.durable.has(c.seq)) continue;
        b.durable.add(c.seq);
        b.lastSeq = Math.max(b.lastSeq ?? -1, c.seq);
        b.frames++;
        b.samples += c.count;
        this.progressEvent(s);
      }
    };
  }

  get pressured(): boolean {
    return this.writer.pressured;
  }

  onRelief(fn: () => void): void {
    this.writer.onRelief(fn);
  }

  /** After a restart: open sessions come back with what the store holds. */
  async load(): Promise<void> {
    const { store } = this.ctx;
    for (const row of await store.openSessions()) {
      if (this.live.has(row.sessionId)) continue;
      const s = this.track(row);
      for (const [deviceId, b] of s.boards) {
        await boardFromStore(store, row.sessionId, b);
        // The acks may have come before the restart: a start or stop still queued was not.
        const feed = s.feeds.get(deviceId)!;
        const pending = (await store.pendingCommands(deviceId)).filter((c) => (c.params as { session_id?: unknown } | null)?.session_id === row.sessionId);
        const start = pending.find((c) => c.command === 'start_collection');
        const stop = pending.find((c) => c.command === 'stop_collection');
        feed.started = !start;
        feed.startCommand = start?.commandId ?? null;
        feed.stopped = row.state === 'uploading' && !stop;
        feed.stopCommand = stop?.commandId ?? null;
        feed.endMs = Infinity;
      }
      if (row.state === 'analyzing') this.analyze(s);
      else if (row.state === 'uploading') this.checkComplete(s);
    }
  }

  private track(row: SessionRow): LiveSession {
    const boards = new Map<string, BoardProgress>();
    for (const id of row.boards) boards.set(id, { deviceId: id, accepted: new Set(), durable: new Set(), frames: 0, samples: 0, finalSeq: null, lastSeq: null });
    const feeds = new Map(row.boards.map((id) => [id, newFeed()]));
    const s: LiveSession = { row, boards, feeds, analyzing: null, lastProgressEvent: 0, checking: null, recheck: false };
    this.live.set(row.sessionId, s);
    if (row.state === 'recording' || row.state === 'uploading') for (const id of row.boards) this.activeByBoard.set(id, row.sessionId);
    return s;
  }

  private now(): Date {
    return new Date(this.ctx.clock.now());
  }

  async create(o: { boards: string[]; playerId?: string; court?: string; roomId?: string; notes?: string; sampleRateHz?: number }): Promise<ReturnType<typeof sessionJson>> {
    const boards = [...new Set(o.boards)];
    const row: SessionRow = {
      sessionId: newSessionId(),
      state: 'created',
      boards,
      playerId: o.playerId ?? null,
      court: o.court ?? null,
      roomId: o.roomId ?? null,
      notes: o.notes ?? null,
      sampleRateHz: o.sampleRateHz ?? 200,
      createdAt: this.now(),
      startedAt: null,
      stoppedAt: null,
      completedAt: null,
      failureReason: null,
      summary: null,
    };
    await this.ctx.store.createSession(row);
    const s = this.track(row);
    this.changed(s);
    this.fleet?.changed(row.sessionId);
    return sessionJson(s.row, s.boards);
  }

  private open(sessionId: string): LiveSession {
    const s = this.live.get(sessionId);
    if (!s) throw gatewayError('NOT_FOUND', `session ${sessionId} is not open (unknown, complete or failed)`);
    return s;
  }

  async start(sessionId: string): Promise<ReturnType<typeof sessionJson>> {
    const s = this.open(sessionId);
    if (s.row.state !== 'created') throw gatewayError('CONFLICT', `session ${sessionId} is ${s.row.state}; only a created session can start`);
    for (const id of s.row.boards) {
      const other = this.activeByBoard.get(id);
      if (other && other !== sessionId) throw gatewayError('CONFLICT', `board ${id} is already recording in session ${other}; stop that one first`);
    }
    await this.setState(s, 'recording', { startedAt: this.now() });
    for (const id of s.row.boards) this.activeByBoard.set(id, sessionId);
    const params = { session_id: sessionId, sample_rate_hz: s.row.sampleRateHz, rate_hz: s.row.sampleRateHz };
    for (const id of s.row.boards) s.feeds.get(id)!.startCommand = (await this.ctx.commands.send(id, 'start_collection', params)).commandId;
    return sessionJson(s.row, s.boards);
  }

  /** Recording: ask boards to stop and upload. Uploading already: finish now with what is stored. */
  async stop(sessionId: string): Promise<ReturnType<typeof sessionJson>> {
    const s = this.open(sessionId);
    if (s.row.state === 'recording') {
      await this.setState(s, 'uploading', { stoppedAt: this.now() });
      for (const id of s.row.boards) s.feeds.get(id)!.stopCommand = (await this.ctx.commands.send(id, 'stop_collection', { session_id: sessionId })).commandId;
      this.checkComplete(s);
    } else if (s.row.state === 'uploading') {
      this.ctx.log.warn('session finished by the operator before every board completed its upload', { session_id: sessionId });
      await this.claimAndAnalyze(s);
    } else if (s.row.state === 'created') {
      await this.setState(s, 'failed', { failureReason: 'stopped before it started', completedAt: this.now() });
      this.live.delete(sessionId);
    } else {
      throw gatewayError('CONFLICT', `session ${sessionId} is ${s.row.state}`);
    }
    return sessionJson(s.row, s.boards);
  }

  /** The board's ack of a command: start_collection and stop_collection mark where its session numbering begins and ends. */
  commandAcked(deviceId: string, commandId: string, ok: boolean): void | Promise<void> {
    const s = this.live.get(this.activeByBoard.get(deviceId) ?? '');
    const feed = s?.feeds.get(deviceId);
    if (feed && commandId === feed.startCommand) {
      if (!feed.started) {
        feed.started = ok;
        feed.liveUntilMs = this.liveEnd.get(deviceId) ?? -Infinity;
      }
    } else if (feed && commandId === feed.stopCommand) {
      if (ok) feed.stopped = true;
    } else if (this.fleet) {
      // Sent by another gateway: the command's row says which session and what. The board's
      // next frames wait for this (the endpoint reads in order), so the ack still marks the switch.
      return this.ackFromStore(deviceId, commandId, ok);
    }
  }

  private async ackFromStore(deviceId: string, commandId: string, ok: boolean): Promise<void> {
    const c = await this.ctx.store.getCommand(commandId).catch(() => undefined);
    const sessionId = (c?.params as { session_id?: unknown } | null | undefined)?.session_id;
    if (!c || c.deviceId !== deviceId || typeof sessionId !== 'string' || (c.command !== 'start_collection' && c.command !== 'stop_collection')) return;
    if (!this.live.has(sessionId)) await this.refresh(sessionId);
    const feed = this.live.get(sessionId)?.feeds.get(deviceId);
    if (!feed) return;
    if (c.command === 'start_collection') {
      feed.startCommand = commandId;
      if (!feed.started) {
        feed.started = ok;
        feed.liveUntilMs = this.liveEnd.get(deviceId) ?? -Infinity;
      }
    } else {
      feed.stopCommand = commandId;
      if (ok) feed.stopped = true;
    }
  }

  private liveFrame(b: IncomingBatch, sessionId: string | null, reason?: string): SinkResult {
    this.liveEnd.set(b.deviceId, Math.max(this.liveEnd.get(b.deviceId) ?? -Infinity, frameEndMs(b)));
    return reason === undefined ? { kind: 'live', sessionId } : { kind: 'live', sessionId, reason };
  }

  accept(b: IncomingBatch): SinkResult {
    const sessionId = b.sessionId ?? this.activeByBoard.get(b.deviceId) ?? null;
    if (sessionId === null) return this.liveFrame(b, null);
    const s = this.live.get(sessionId);
    if (!s && this.fleet && b.sessionId !== null && !this.closedHere.has(sessionId)) {
      // Maybe started by another gateway and not heard of here yet: the store says. Not acked
      // unless stored, so a frame of a session that is not open stays on the board.
      return { kind: 'stored', sessionId, durable: this.refresh(sessionId).then(() => this.lateAccept(b)) };
    }
    if (!s) return { kind: 'live', sessionId, reason: `session ${sessionId} is not recording` };
    const board = s.boards.get(b.deviceId);
    if (!board) return { kind: 'live', sessionId, reason: `board ${b.deviceId} is not part of session ${sessionId}` };
    // A frame without an id that is not the session's goes back with no session, so the board drops it from its live numbering.
    const live = b.sessionId === null ? null : sessionId;
    if (s.row.state !== 'recording' && s.row.state !== 'uploading') return this.liveFrame(b, live, `session ${sessionId} is ${s.row.state}`);
    const feed = s.feeds.get(b.deviceId)!;
    if (b.sessionId === null) {
      const refused = idlessRefusal(feed, b, sessionId, (seq) => board.accepted.has(seq), board.finalSeq);
      if (refused !== null) return this.liveFrame(b, null, refused);
    }
    if (b.seq === null) return { kind: 'error', code: 'BAD_FRAME', message: `seq is required while session ${sessionId} records` };
    if (feed.endMs !== Infinity) feed.endMs = Math.max(feed.endMs, frameEndMs(b));
    board.accepted.add(b.seq);
    const durable = this.writer.push({
      sessionId,
      deviceId: b.deviceId,
      seq: b.seq,
      startMs: b.startMs,
      rateHz: b.rateHz,
      count: b.samples.length,
      data: packSamples(b.samples),
      receivedAt: this.now(),
    });
    if (board.finalSeq !== null) void durable.then(() => this.checkComplete(s), () => undefined);
    return { kind: 'stored', sessionId, durable };
  }

  async uploadComplete(deviceId: string, sessionIdGiven: string | null, lastSeq: number): Promise<UploadResult> {
    const sessionId = sessionIdGiven ?? this.activeByBoard.get(deviceId) ?? null;
    if (this.fleet && sessionId !== null && !this.live.has(sessionId)) await this.refresh(sessionId);
    const s = sessionId ? this.live.get(sessionId) : undefined;
    const board = s?.boards.get(deviceId);
    if (!s || !board || (s.row.state !== 'recording' && s.row.state !== 'uploading')) return { sessionId, missing: [] };
    // What other gateways stored of this board (it recorded there before it came here).
    if (this.fleet) await boardFromStore(this.ctx.store, s.row.sessionId, board);
    board.finalSeq = lastSeq;
    await this.ctx.store.setFinalSeq(s.row.sessionId, deviceId, lastSeq, this.now());
    if (this.fleet) void this.writer.flushed().then(() => this.fleet?.changed(s.row.sessionId));
    const missing = missingSeqs(board);
    if (missing.length > 0) {
      this.ctx.log.info('gaps in an upload: asking the board again', { session_id: s.row.sessionId, device_id: deviceId, missing: missing.length });
      const conn = this.ctx.boards.get(deviceId);
      for (let i = 0; i < missing.length; i += MAX_RESEND_SEQS) conn?.peer.send({ type: 'resend', session_id: s.row.sessionId, seqs: missing.slice(i, i + MAX_RESEND_SEQS) });
    }
    this.progressEvent(s, true);
    this.checkComplete(s);
    return { sessionId: s.row.sessionId, missing };
  }

  /** Uploading and every board reported its last seq with nothing missing: analyze. */
  private checkComplete(s: LiveSession): void {
    if (s.row.state !== 'uploading' || s.analyzing) return;
    if (this.fleet) return this.checkCompleteShared(s);
    for (const b of s.boards.values()) if (b.finalSeq === null || missingSeqs(b).length > 0) return;
    this.analyze(s);
  }

  /** In a fleet other gateways record some boards: what this one lacks, the store may have. */
  private checkCompleteShared(s: LiveSession): void {
    if (s.checking) {
      s.recheck = true;
      return;
    }
    s.checking = (async () => {
      for (const b of s.boards.values()) {
        if (b.finalSeq === null || missingSeqs(b).length > 0) await boardFromStore(this.ctx.store, s.row.sessionId, b);
        if (b.finalSeq === null || missingSeqs(b).length > 0) return;
      }
      if (s.row.state === 'uploading' && !s.analyzing) await this.claimAndAnalyze(s);
    })()
      .catch((err: unknown) => this.ctx.log.warn('session completion check failed', { session_id: s.row.sessionId, error: String(err) }))
      .finally(() => {
        s.checking = null;
        if (s.recheck) {
          s.recheck = false;
          this.checkComplete(s);
        }
      });
  }

  /** One gateway of a fleet analyzes: the one whose claim on the row succeeds. */
  private async claimAndAnalyze(s: LiveSession): Promise<void> {
    if (!this.fleet) return this.analyze(s);
    if (s.analyzing) return;
    if (await this.ctx.store.claimSession(s.row.sessionId, s.row.state, { state: 'analyzing' })) return this.analyze(s, true);
    await this.refresh(s.row.sessionId);
  }

  private analyze(s: LiveSession, claimed = false): void {
    if (s.analyzing) return;
    s.analyzing = (async () => {
      try {
        if (claimed) {
          s.row.state = 'analyzing';
          this.changed(s);
          this.fleet?.changed(s.row.sessionId);
        } else await this.setState(s, 'analyzing', {});
        // Everything accepted must be on disk before it is read back.
        await this.writer.flushed();
        const summary = await runAnalysis(this.ctx.store, s.row, [...s.boards.values()]);
        await this.setState(s, 'complete', { completedAt: this.now(), summary });
        await this.notifyComplete(s);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        this.ctx.log.error('session analysis failed', { session_id: s.row.sessionId, error: reason });
        await this.setState(s, 'failed', { completedAt: this.now(), failureReason: `analysis failed: ${reason}` }).catch(() => undefined);
      } finally {
        for (const id of s.row.boards) if (this.activeByBoard.get(id) === s.row.sessionId) this.activeByBoard.delete(id);
        this.live.delete(s.row.sessionId);
        this.noteClosed(s.row.sessionId);
      }
    })();
  }

  private async notifyComplete(s: LiveSession): Promise<void> {
    const body = { type: 'analysis_complete_notification', session_id: s.row.sessionId, player_id: s.row.playerId, summary: s.row.summary, completed_at: s.row.completedAt?.toISOString() };
    if (s.row.playerId) await this.ctx.users.notify(s.row.playerId, body);
    this.ctx.operators.notifyAll(body);
    this.ctx.log.info('session analysis complete', { session_id: s.row.sessionId });
  }

  private async setState(s: LiveSession, state: SessionState, patch: Partial<SessionRow>): Promise<void> {
    await this.ctx.store.updateSession(s.row.sessionId, { state, ...patch });
    Object.assign(s.row, { state, ...patch });
    this.changed(s);
    this.fleet?.changed(s.row.sessionId);
  }

  /** A fleet: the session (null: every open one) read again from the shared store (shared.ts). */
  refresh(sessionId: string | null): Promise<void> {
    return refreshFromStore(this.ctx.store, this.tables, sessionId);
  }

  /** What shared.ts reads and changes when the store says a session changed. */
  private readonly tables: SessionTables<LiveSession> = {
    live: this.live,
    activeByBoard: this.activeByBoard,
    track: (row) => this.track(row),
    checkComplete: (s) => this.checkComplete(s),
    noteClosed: (id) => this.noteClosed(id),
  };

  /** A frame naming a session this gateway had not heard of, once the store was asked. */
  private lateAccept(b: IncomingBatch): Promise<void> {
    const r = this.live.has(b.sessionId!) ? this.accept(b) : null;
    if (r?.kind === 'stored') return r.durable;
    return Promise.reject(new NotStored(r?.kind === 'live' && r.reason ? r.reason : `session ${b.sessionId} is not recording`));
  }

  private noteClosed(sessionId: string): void {
    if (this.closedHere.size >= 1000) this.closedHere.clear();
    this.closedHere.add(sessionId);
  }

  private changed(s: LiveSession): void {
    this.ctx.operators.publish('sessions', { event: 'state', session: sessionJson(s.row, s.boards) });
  }

  /** Progress events at most twice a second per session: charts, not a frame per batch. */
  private progressEvent(s: LiveSession, force = false): void {
    const now = this.ctx.clock.now();
    if (!force && now - s.lastProgressEvent < 500) return;
    s.lastProgressEvent = now;
    this.ctx.operators.publish('sessions', { event: 'progress', session: sessionJson(s.row, s.boards) });
  }

  /** Who played, on which court, and the coach's notes: editable in every state (null clears). */
  async describe(sessionId: string, patch: { playerId?: string | null; court?: string | null; notes?: string | null }): Promise<ReturnType<typeof sessionJson>> {
    const row = this.live.get(sessionId)?.row ?? (await this.ctx.store.getSession(sessionId));
    if (!row) throw gatewayError('NOT_FOUND', `session ${sessionId} not found`);
    const p = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    await this.ctx.store.updateSession(sessionId, p);
    Object.assign(row, p);
    const live = this.live.get(sessionId);
    const json = live ? sessionJson(live.row, live.boards) : (await this.get(sessionId))!;
    this.ctx.operators.publish('sessions', { event: 'state', session: json });
    return json;
  }

  /** Deletes a session that is not being recorded, uploaded or analyzed. */
  async remove(sessionId: string): Promise<void> {
    const live = this.live.get(sessionId);
    if (live && live.row.state !== 'created') throw gatewayError('CONFLICT', `session ${sessionId} is ${live.row.state}; stop it and let it finish first`);
    if (!(await this.ctx.store.deleteSession(sessionId))) throw gatewayError('NOT_FOUND', `session ${sessionId} not found`);
    this.live.delete(sessionId);
  }

  /** An open session with live progress, else the stored row. */
  async get(sessionId: string): Promise<ReturnType<typeof sessionJson> | null> {
    const s = this.live.get(sessionId);
    // In a fleet, boards on other gateways store what this one never sees.
    if (s && this.fleet) for (const b of s.boards.values()) await boardFromStore(this.ctx.store, sessionId, b);
    if (s) return sessionJson(s.row, s.boards);
    const row = await this.ctx.store.getSession(sessionId);
    if (!row) return null;
    return sessionJson(row, await storedProgress(this.ctx, row));
  }

  /**
   * A page of the session list, each as `get` gives it, newest first: three
   * queries for the page (store.listSessionSummaries), not three per session.
   */
  async list(opts: { search?: string; state?: SessionState; limit?: number } = {}): Promise<ReturnType<typeof sessionJson>[]> {
    const page = await this.ctx.store.listSessionSummaries(opts);
    return page.map(({ row, chunks, finals }) => {
      const s = this.live.get(row.sessionId);
      return s ? sessionJson(s.row, s.boards) : sessionJson(row, progressFrom(row, chunks, finals));
    });
  }

  /** For the player's session_status: the session asked for, else their newest. */
  async forPlayer(playerId: string, sessionId?: string): Promise<ReturnType<typeof sessionJson> | null> {
    if (sessionId) {
      const s = await this.get(sessionId);
      return s && s.player_id === playerId ? s : null;
    }
    for (const s of this.live.values()) if (s.row.playerId === playerId) return sessionJson(s.row, s.boards);
    const [mine] = await this.ctx.store.listSessions({ playerId, limit: 1 });
    return mine ? this.get(mine.sessionId) : null;
  }

  status(): Record<string, unknown> {
    return { sessions_open: this.live.size, ingest: this.writer.snapshot() };
  }

  /** Waits for running analyses (clean shutdown). */
  async idle(): Promise<void> {
    this.ctx.clock.clear(this.fleetTimer);
    await Promise.all([...this.live.values()].map((s) => s.analyzing).filter(Boolean));
  }
}


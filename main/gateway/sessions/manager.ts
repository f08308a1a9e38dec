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
import { NotStored, StoredFrame, type IncomingBatch, type SampleSink, type SinkResult, type UploadResult } from '../samples.js';
import type { ChunkStats, SessionRow, SessionState } from '../store/types.js';
import { FrameChunk, IngestWriter, packSamples } from './ingest.js';
import { missingSeqs, sessionJson, type BoardProgress } from './json.js';
import { frameEndMs, idlessRefusal, newFeed } from './feed.js';
import { Completion } from './completion.js';
import { getSession, listSessions, sessionForPlayer, type SessionJson, type SessionReads } from './queries.js';
import type { LiveSession } from './live.js';
import { LiveStrokes } from './live-strokes.js';
import { checkedBoardPlayers } from './players.js';
import { commandAcked, type AckHost } from './acks.js';
import { boardFromStore, refreshFromStore, type SessionTables } from './shared.js';
import type { SessionFleet } from '../fleet/hooks.js';
import type { TimerHandle } from '../clock.js';
import { SeqSet } from './seq-set.js';

export type { LiveSession } from './live.js';

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
  /** Strokes found while recording: counted on the board's progress and told on `strokes` as they come. */
  private readonly liveStrokes = new LiveStrokes((sessionId, deviceId, stroke, count) => {
    const s = this.live.get(sessionId);
    const b = s?.boards.get(deviceId);
    if (!s || !b) return;
    b.liveStrokes = count;
    b.lastStroke = stroke;
    const playerId = s.row.boardPlayers?.[deviceId] ?? s.row.playerId;
    this.ctx.operators.publish('strokes', { event: 'stroke', session_id: sessionId, device_id: deviceId, player_id: playerId, count, stroke });
  });

  constructor(
    private readonly ctx: SessionDeps,
    readonly writer: IngestWriter,
    /** Other gateways on the same database (a fleet): sessions started there, boards that moved. */
    private readonly fleet: SessionFleet | null = null,
  ) {
    this.completion = new Completion({
      ctx: this.ctx,
      writer: this.writer,
      fleet: this.fleet,
      live: this.live,
      activeByBoard: this.activeByBoard,
      setState: (s, state, patch) => this.setState(s, state, patch),
      changed: (s) => this.changed(s),
      refresh: (id) => this.refresh(id),
      noteClosed: (id) => this.noteClosed(id),
      now: () => this.now(),
    });
    this.reads = { ctx: this.ctx, fleet: this.fleet, live: this.live };
    this.acks = { ctx: this.ctx, fleet: this.fleet, live: this.live, activeByBoard: this.activeByBoard, liveEnd: this.liveEnd, refresh: (id) => this.refresh(id) };
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
    for (const id of row.boards) boards.set(id, { deviceId: id, accepted: new SeqSet(), durable: new SeqSet(), frames: 0, samples: 0, finalSeq: null, lastSeq: null });
    const feeds = new Map(row.boards.map((id) => [id, newFeed()]));
    const s: LiveSession = { row, boards, feeds, analyzing: null, lastProgressEvent: 0, checking: null, recheck: false };
    this.live.set(row.sessionId, s);
    if (row.state === 'recording' || row.state === 'uploading') for (const id of row.boards) this.activeByBoard.set(id, row.sessionId);
    return s;
  }

  private now(): Date {
    return new Date(this.ctx.clock.now());
  }

  async create(o: { boards: string[]; playerId?: string; boardPlayers?: Record<string, string>; court?: string; roomId?: string; notes?: string; sampleRateHz?: number }): Promise<SessionJson> {
    const boards = [...new Set(o.boards)];
    const row: SessionRow = {
      sessionId: newSessionId(),
      state: 'created',
      boards,
      playerId: o.playerId ?? null,
      boardPlayers: o.boardPlayers ? checkedBoardPlayers(boards, o.boardPlayers) : null,
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

  async start(sessionId: string): Promise<SessionJson> {
    const s = this.open(sessionId);
    if (s.row.state !== 'created') throw gatewayError('CONFLICT', `session ${sessionId} is ${s.row.state}; only a created session can start`);
    for (const id of s.row.boards) {
      const other = this.activeByBoard.get(id);
      if (other && other !== sessionId) throw gatewayError('CONFLICT', `board ${id} is already recording in session ${other}; stop that one first`);
    }
    for (const b of s.boards.values()) Object.assign(b, { liveStrokes: 0, lastStroke: null });
    await this.setState(s, 'recording', { startedAt: this.now() });
    for (const id of s.row.boards) this.activeByBoard.set(id, sessionId);
    const params = { session_id: sessionId, sample_rate_hz: s.row.sampleRateHz, rate_hz: s.row.sampleRateHz };
    for (const id of s.row.boards) s.feeds.get(id)!.startCommand = (await this.ctx.commands.send(id, 'start_collection', params)).commandId;
    return sessionJson(s.row, s.boards);
  }

  /** Recording: ask boards to stop and upload. Uploading already: finish now with what is stored. */
  async stop(sessionId: string): Promise<SessionJson> {
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

  /** The board's ack of a command: start_collection and stop_collection mark where its session numbering begins and ends (acks.ts). */
  commandAcked(deviceId: string, commandId: string, ok: boolean): void | Promise<void> {
    return commandAcked(this.acks, deviceId, commandId, ok);
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
    if (s.row.state === 'recording') this.liveStrokes.push(sessionId, b);
    const stored = new StoredFrame(sessionId);
    const data = b.values ? Buffer.from(b.values.buffer, b.values.byteOffset, b.values.byteLength) : packSamples(b.samples);
    this.writer.add(new FrameChunk(sessionId, b.deviceId, b.seq, b.startMs, b.rateHz, b.samples.length, data, this.now()), stored);
    if (board.finalSeq !== null) stored.onDurable(() => this.checkComplete(s), () => undefined);
    return stored;
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

  /** Uploading and every board reported its last seq with nothing missing: analyze (completion.ts). */
  private checkComplete(s: LiveSession): void {
    this.completion.check(s);
  }

  private claimAndAnalyze(s: LiveSession): Promise<void> {
    return this.completion.claimAndAnalyze(s);
  }

  private analyze(s: LiveSession): void {
    this.completion.analyze(s);
  }

  private async setState(s: LiveSession, state: SessionState, patch: Partial<SessionRow>): Promise<void> {
    await this.ctx.store.updateSession(s.row.sessionId, { state, ...patch });
    Object.assign(s.row, { state, ...patch });
    if (state !== 'recording') this.liveStrokes.forget(s.row.sessionId);
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

  /** The end of a session (completion.ts) and the read side (queries.ts). */
  private readonly completion: Completion;
  private readonly reads: SessionReads;
  private readonly acks: AckHost;

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
  async describe(sessionId: string, patch: { playerId?: string | null; boardPlayers?: Record<string, string> | null; court?: string | null; notes?: string | null }): Promise<SessionJson> {
    const row = this.live.get(sessionId)?.row ?? (await this.ctx.store.getSession(sessionId));
    if (!row) throw gatewayError('NOT_FOUND', `session ${sessionId} not found`);
    if (patch.boardPlayers) patch = { ...patch, boardPlayers: checkedBoardPlayers(row.boards, patch.boardPlayers) };
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
  get(sessionId: string): Promise<SessionJson | null> {
    return getSession(this.reads, sessionId);
  }

  /** A page of the session list, newest first (queries.ts). */
  list(opts: { search?: string; state?: SessionState; limit?: number } = {}): Promise<SessionJson[]> {
    return listSessions(this.reads, opts);
  }

  /** For the player's session_status: the session asked for, else their newest. */
  forPlayer(playerId: string, sessionId?: string): Promise<SessionJson | null> {
    return sessionForPlayer(this.reads, playerId, sessionId);
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


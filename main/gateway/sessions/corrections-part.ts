/**
 * The corrections requests of the sessions part: a coach corrects a stroke
 * (retype, not a stroke, or add one the analysis missed), lists and deletes
 * corrections, re-analyses a session with the player's current profile, and
 * reads a player's profile. Requests on one session run one at a time, so a
 * correction made during a re-analysis is neither lost nor half-applied.
 */
import { randomBytes } from 'node:crypto';
import {
  CorrectionOperatorFrames,
  type CorrectionJson,
  type PlayerProfileJson,
  type Stroke as WireStroke,
} from '../../../firmware-protocol/index.js';
import type { Core } from '../core.js';
import { gatewayError } from '../errors.js';
import { answer, defineRequest, type RequestTable } from '../parts.js';
import type { CorrectionRow, SessionRow, Store } from '../store/types.js';
import { analyzeSamples } from './analysis/analyze.js';
import { estimateRateHz, measureNear } from './analysis/detect.js';
import { mirrorFeatures, strokeFeatures } from './analysis/features.js';
import { resolveOptions, STROKE_TYPES } from './analysis/types.js';
import { boardSamples, runAnalysis } from './analysis-run.js';
import { ATTACH_TOLERANCE_MS, NOT_A_STROKE, correctedSummary, indexed, overlay, type CorrectedStroke } from './corrections.js';
import type { SessionManager } from './manager.js';
import { playerOfBoard, type BoardProgress } from './json.js';
import { SeqSet } from './seq-set.js';

/** How far from the time a coach points at an added stroke's peak is looked for, ms. */
export const ADD_SEARCH_MS = 150;

const iso = (d: Date) => d.toISOString();

function strokeWire(s: CorrectedStroke & { index: number }): WireStroke {
  const base: WireStroke = {
    device_id: s.deviceId, index: s.index, t_ms: s.tMs, type: s.type, confidence: s.confidence,
    peak_dps: s.peakDps, speed_kmh: s.speedKmh, peak_g: s.peakG, saturated: s.saturated,
  };
  // An uncorrected stroke is listed exactly as before corrections existed.
  if (!s.correction) return base;
  return { ...base, model_type: s.modelType, correction: { correction_id: s.correction.correctionId, by: s.correction.madeBy, at: iso(s.correction.madeAt) } };
}

function correctionWire(c: CorrectionRow, attached: boolean): CorrectionJson {
  return {
    correction_id: c.correctionId, session_id: c.sessionId, device_id: c.deviceId, player_id: c.playerId, t_ms: c.tMs,
    type: c.type as CorrectionJson['type'], original_type: c.originalType,
    action: c.originalType === null ? 'add' : c.type === NOT_A_STROKE ? 'not_a_stroke' : 'retype',
    by: c.madeBy, at: iso(c.madeAt), attached,
  };
}

/** A session's strokes with its corrections laid over them, as get_session lists them. */
export async function sessionStrokes(store: Store, sessionId: string) {
  const o = overlay(await store.listStrokes(sessionId), await store.listCorrections({ sessionId }));
  return { overlay: o, strokes: indexed(o.strokes).map(strokeWire) };
}

export function profileJson(playerId: string, corrections: readonly CorrectionRow[]): PlayerProfileJson {
  const by = { clear: 0, drive: 0, lift: 0, smash: 0 };
  for (const c of corrections) if ((STROKE_TYPES as readonly string[]).includes(c.type)) by[c.type as keyof typeof by]++;
  const last = corrections.reduce<Date | null>((m, c) => (!m || c.madeAt > m ? c.madeAt : m), null);
  return {
    player_id: playerId,
    corrected_by_type: by,
    not_a_stroke: corrections.filter((c) => c.type === NOT_A_STROKE).length,
    corrections: corrections.length,
    sessions: new Set(corrections.map((c) => c.sessionId)).size,
    updated_at: last && iso(last),
  };
}

export function correctionRequests(core: Core, sessions: SessionManager): { requests: RequestTable; idle(): Promise<void> } {
  const { store } = core;
  const chains = new Map<string, Promise<unknown>>();
  /** Runs fn after every earlier request on the session. */
  const serial = <T>(sessionId: string, fn: () => Promise<T>): Promise<T> => {
    const run = (chains.get(sessionId) ?? Promise.resolve()).then(fn, fn);
    const tail = run.catch(() => undefined);
    chains.set(sessionId, tail);
    void tail.then(() => chains.get(sessionId) === tail && chains.delete(sessionId));
    return run;
  };

  const existing = async (sessionId: string): Promise<SessionRow> => {
    const row = await store.getSession(sessionId);
    if (!row) throw gatewayError('NOT_FOUND', `session ${sessionId} not found`);
    return row;
  };
  const complete = async (sessionId: string): Promise<SessionRow> => {
    const row = await existing(sessionId);
    if (row.state !== 'complete') throw gatewayError('CONFLICT', `session ${sessionId} is ${row.state}; strokes can be corrected once it is complete`);
    return row;
  };

  /** Stores the summary with the corrections counted; answers the session and its strokes. */
  const settle = async (row: SessionRow) => {
    const { overlay: o, strokes } = await sessionStrokes(store, row.sessionId);
    const summary = correctedSummary(row.summary, o.strokes, o.rejected.length);
    if (JSON.stringify(summary) !== JSON.stringify(row.summary)) await store.updateSession(row.sessionId, { summary });
    const session = await sessions.get(row.sessionId);
    return { session: session!, strokes, overlay: o };
  };

  const correct = async (f: { session_id: string; device_id: string; t_ms: number; stroke_type: string; by: string }) => {
    const row = await complete(f.session_id);
    if (!row.boards.includes(f.device_id)) throw gatewayError('NOT_FOUND', `board ${f.device_id} is not in session ${f.session_id}`);
    if (!Number.isFinite(f.t_ms)) throw gatewayError('BAD_REQUEST', 't_ms must be a finite number');
    const detected = (await store.listStrokes(row.sessionId)).filter((s) => s.deviceId === f.device_id);
    const mine = (await store.listCorrections({ sessionId: row.sessionId })).filter((c) => c.deviceId === f.device_id);
    const near = <T extends { tMs: number }>(list: readonly T[], t: number) =>
      list.reduce<T | null>((best, s) => (Math.abs(s.tMs - t) <= ATTACH_TOLERANCE_MS && (!best || Math.abs(s.tMs - t) < Math.abs(best.tMs - t)) ? s : best), null);
    const target = near(detected, f.t_ms);
    const samples = await boardSamples(store, row.sessionId, f.device_id);
    // The features the classifier sees (mirrored for a left-hander's session): what the profile learns from.
    const analysed = analyzeSamples(samples);
    let c: CorrectionRow;
    const base = { correctionId: 'k-' + randomBytes(6).toString('hex'), sessionId: row.sessionId, deviceId: f.device_id, playerId: playerOfBoard(row, f.device_id), type: f.stroke_type, madeBy: f.by, madeAt: new Date(core.clock.now()) };
    if (target) {
      const i = analysed.strokes.reduce((b, s, k) => (Math.abs(s.tMs - target.tMs) < Math.abs(analysed.strokes[b]!.tMs - target.tMs) ? k : b), 0);
      const same = analysed.strokes[i] && Math.abs(analysed.strokes[i]!.tMs - target.tMs) <= ATTACH_TOLERANCE_MS;
      c = { ...base, tMs: target.tMs, originalType: target.type, features: f.stroke_type === NOT_A_STROKE || !same ? null : analysed.features[i]!, stroke: null };
    } else {
      const added = near(mine.filter((k) => k.originalType === null), f.t_ms);
      if (f.stroke_type === NOT_A_STROKE) {
        throw gatewayError('NOT_FOUND', added
          ? `the stroke at ${added.tMs} ms was added by ${added.madeBy}: delete correction ${added.correctionId} instead`
          : `no detected stroke within ${ATTACH_TOLERANCE_MS} ms of t_ms ${f.t_ms} on board ${f.device_id}`);
      }
      const o = resolveOptions();
      const peak = measureNear(samples, added?.tMs ?? f.t_ms, ADD_SEARCH_MS, o, estimateRateHz(samples));
      if (!peak) throw gatewayError('BAD_REQUEST', `board ${f.device_id} has no samples within ${ADD_SEARCH_MS} ms of t_ms ${f.t_ms}`);
      const x = strokeFeatures(samples, peak.sample);
      c = {
        ...base, tMs: peak.tMs, originalType: null, features: analysed.mirrored ? mirrorFeatures(x) : x,
        stroke: { peak_dps: peak.peakDps, speed_kmh: peak.speedKmh, peak_g: peak.peakG, saturated: peak.saturated },
      };
    }
    // Earlier corrections of this same stroke give way to the new one.
    const replaced = mine.filter((k) => Math.abs(k.tMs - c.tMs) <= ATTACH_TOLERANCE_MS).map((k) => k.correctionId);
    await store.saveCorrection(c, replaced);
    const done = await settle(row);
    return answer('stroke_corrected', {
      correction: correctionWire(c, done.overlay.attached.get(c.correctionId) ?? false),
      replaced, session: done.session, strokes: done.strokes,
    });
  };

  const reanalyze = async (sessionId: string) => {
    const row = await complete(sessionId);
    const before = (await sessionStrokes(store, sessionId)).overlay.strokes;
    const finals = new Map((await store.finalSeqs(sessionId)).map((x) => [x.deviceId, x.finalSeq]));
    const boards: BoardProgress[] = [];
    for (const deviceId of row.boards) {
      const seqs = await store.chunkSeqs(sessionId, deviceId);
      boards.push({ deviceId, accepted: new SeqSet(seqs), durable: new SeqSet(seqs), frames: seqs.length, samples: 0, finalSeq: finals.get(deviceId) ?? null, lastSeq: seqs.at(-1) ?? null });
    }
    const summary = await runAnalysis(store, row, boards);
    await store.updateSession(sessionId, { summary });
    const done = await settle({ ...row, summary });
    const changes = diff(before, done.overlay.strokes);
    const profile = row.playerId ? profileJson(row.playerId, await store.listCorrections({ playerId: row.playerId })) : null;
    core.log.info('session re-analysed', { session_id: sessionId, changes: changes.length });
    return answer('session_reanalyzed', { session: done.session, strokes: done.strokes, changes, profile });
  };

  const F = CorrectionOperatorFrames;
  const requests: RequestTable = {
    correct_stroke: defineRequest(F.correct_stroke, {
      http: 'POST /sessions/:session_id/corrections',
      status: 201,
      handle: (f) => serial(f.session_id, () => correct(f)),
    }),
    list_corrections: defineRequest(F.list_corrections, {
      http: 'GET /sessions/:session_id/corrections',
      async handle(f) {
        await existing(f.session_id);
        const all = await store.listCorrections({ sessionId: f.session_id });
        const o = overlay(await store.listStrokes(f.session_id), all);
        return answer('corrections', { session_id: f.session_id, corrections: all.map((c) => correctionWire(c, o.attached.get(c.correctionId) ?? false)) });
      },
    }),
    delete_correction: defineRequest(F.delete_correction, {
      http: 'DELETE /sessions/:session_id/corrections/:correction_id',
      handle: (f) => serial(f.session_id, async () => {
        const row = await existing(f.session_id);
        if (!(await store.deleteCorrection(f.session_id, f.correction_id))) throw gatewayError('NOT_FOUND', `correction ${f.correction_id} not found in session ${f.session_id}`);
        const done = await settle(row);
        return answer('correction_deleted', { correction_id: f.correction_id, session: done.session, strokes: done.strokes });
      }),
    }),
    reanalyze_session: defineRequest(F.reanalyze_session, {
      http: 'POST /sessions/:session_id/reanalyze',
      handle: (f) => serial(f.session_id, () => reanalyze(f.session_id)),
    }),
    get_player_profile: defineRequest(F.get_player_profile, {
      http: 'GET /players/:player_id/profile',
      handle: async (f) => answer('player_profile', { profile: profileJson(f.player_id, await store.listCorrections({ playerId: f.player_id })) }),
    }),
  };
  return { requests, idle: async () => { await Promise.all([...chains.values()]); } };
}

/** Strokes whose type changed, appeared or went away, matched by board and time as corrections are. */
function diff(before: readonly CorrectedStroke[], after: readonly CorrectedStroke[]) {
  const out: { device_id: string; t_ms: number; before: string | null; after: string | null }[] = [];
  const used = new Set<number>();
  for (const b of before) {
    let best = -1;
    after.forEach((a, i) => {
      if (used.has(i) || a.deviceId !== b.deviceId || Math.abs(a.tMs - b.tMs) > ATTACH_TOLERANCE_MS) return;
      if (best < 0 || Math.abs(a.tMs - b.tMs) < Math.abs(after[best]!.tMs - b.tMs)) best = i;
    });
    if (best < 0) out.push({ device_id: b.deviceId, t_ms: b.tMs, before: b.type, after: null });
    else {
      used.add(best);
      if (after[best]!.type !== b.type) out.push({ device_id: b.deviceId, t_ms: after[best]!.tMs, before: b.type, after: after[best]!.type });
    }
  }
  after.forEach((a, i) => {
    if (!used.has(i)) out.push({ device_id: a.deviceId, t_ms: a.tMs, before: null, after: a.type });
  });
  return out;
}

/**
 * Coaches' stroke corrections, over the same driver as the rest of the store.
 * Their own table, never written by analysis: re-analysing a session rewrites
 * its strokes and leaves these alone (sessions/corrections.ts re-attaches them).
 */
import type { SqlDriver, SqlRow, SqlValue } from './sql-store.js';
import type { CorrectionRow, Store } from './types.js';

interface Helpers {
  driver: SqlDriver;
  op<T>(fn: () => Promise<T>): Promise<T>;
  time(d: Date, what: string): SqlValue;
  toJson(v: unknown): string | null;
  fromJson(v: unknown): unknown;
}

const COLUMNS = 'correction_id, session_id, device_id, player_id, t_ms, type, original_type, features, stroke, made_by, made_at';

type CorrectionMethods = Pick<Store, 'saveCorrection' | 'deleteCorrection' | 'listCorrections'>;

export function correctionMethods(h: Helpers): CorrectionMethods {
  const { driver, op, time, toJson, fromJson } = h;
  const strOrNull = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const row = (r: SqlRow): CorrectionRow => {
    const features = fromJson(r.features);
    return {
      correctionId: String(r.correction_id),
      sessionId: String(r.session_id),
      deviceId: String(r.device_id),
      playerId: strOrNull(r.player_id),
      tMs: Number(r.t_ms),
      type: String(r.type),
      originalType: strOrNull(r.original_type),
      features: Array.isArray(features) ? (features as number[]) : null,
      stroke: fromJson(r.stroke) ?? null,
      madeBy: String(r.made_by),
      madeAt: driver.date(r.made_at),
    };
  };
  return {
    saveCorrection: (c, replaces = []) => op(async () => {
      // Inserted before the ones it replaces are deleted: cut short in between, both stay,
      // and the newer one is what attaches (sessions/corrections.ts), so nothing is lost.
      await driver.run(`INSERT INTO stroke_corrections (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
        c.correctionId, c.sessionId, c.deviceId, c.playerId, c.tMs, c.type, c.originalType,
        toJson(c.features ?? null), toJson(c.stroke ?? null), c.madeBy, time(c.madeAt, 'madeAt'),
      ]);
      for (const id of replaces) {
        if (id !== c.correctionId) await driver.run('DELETE FROM stroke_corrections WHERE session_id = ? AND correction_id = ?', [c.sessionId, id]);
      }
    }),
    deleteCorrection: (sessionId, correctionId) => op(async () =>
      (await driver.run('DELETE FROM stroke_corrections WHERE session_id = ? AND correction_id = ?', [sessionId, correctionId])).changes > 0),
    listCorrections: (by) => op(async () => {
      const [col, v] = 'sessionId' in by ? ['session_id', by.sessionId] : ['player_id', by.playerId];
      return (await driver.all(`SELECT ${COLUMNS} FROM stroke_corrections WHERE ${col} = ? ORDER BY made_at, correction_id`, [v])).map(row);
    }),
  };
}

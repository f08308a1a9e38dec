/**
 * The end of a session: uploading until every board reported its last seq with nothing
 * missing, then one analysis (in a fleet: by the gateway whose claim on the row succeeds),
 * the player and operators told, the session closed in memory.
 */
import type { SessionRow, SessionState } from '../store/types.js';
import type { SessionFleet } from '../fleet/hooks.js';
import type { IngestWriter } from './ingest.js';
import type { SessionDeps } from './manager.js';
import type { LiveSession } from './live.js';
import { runAnalysis } from './analysis-run.js';
import { missingSeqs } from './json.js';
import { boardFromStore } from './shared.js';

/** What completion reads and changes of the session manager. */
export interface CompletionHost {
  ctx: SessionDeps;
  writer: IngestWriter;
  fleet: SessionFleet | null;
  live: Map<string, LiveSession>;
  activeByBoard: Map<string, string>;
  setState(s: LiveSession, state: SessionState, patch: Partial<SessionRow>): Promise<void>;
  changed(s: LiveSession): void;
  refresh(sessionId: string): Promise<void>;
  noteClosed(sessionId: string): void;
  now(): Date;
}

export class Completion {
  constructor(private readonly h: CompletionHost) {}

  /** Uploading and every board reported its last seq with nothing missing: analyze. */
  check(s: LiveSession): void {
    if (s.row.state !== 'uploading' || s.analyzing) return;
    if (this.h.fleet) return this.checkShared(s);
    for (const b of s.boards.values()) if (b.finalSeq === null || missingSeqs(b).length > 0) return;
    this.analyze(s);
  }

  /** In a fleet other gateways record some boards: what this one lacks, the store may have. */
  private checkShared(s: LiveSession): void {
    if (s.checking) {
      s.recheck = true;
      return;
    }
    const { ctx } = this.h;
    s.checking = (async () => {
      for (const b of s.boards.values()) {
        if (b.finalSeq === null || missingSeqs(b).length > 0) await boardFromStore(ctx.store, s.row.sessionId, b);
        if (b.finalSeq === null || missingSeqs(b).length > 0) return;
      }
      if (s.row.state === 'uploading' && !s.analyzing) await this.claimAndAnalyze(s);
    })()
      .catch((err: unknown) => ctx.log.warn('session completion check failed', { session_id: s.row.sessionId, error: String(err) }))
      .finally(() => {
        s.checking = null;
        if (s.recheck) {
          s.recheck = false;
          this.check(s);
        }
      });
  }

  /** One gateway of a fleet analyzes: the one whose claim on the row succeeds. */
  async claimAndAnalyze(s: LiveSession): Promise<void> {
    if (!this.h.fleet) return this.analyze(s);
    if (s.analyzing) return;
    if (await this.h.ctx.store.claimSession(s.row.sessionId, s.row.state, { state: 'analyzing' })) return this.analyze(s, true);
    await this.h.refresh(s.row.sessionId);
  }

  analyze(s: LiveSession, claimed = false): void {
    if (s.analyzing) return;
    const h = this.h;
    s.analyzing = (async () => {
      try {
        if (claimed) {
          s.row.state = 'analyzing';
          h.changed(s);
          h.fleet?.changed(s.row.sessionId);
        } else await h.setState(s, 'analyzing', {});
        // Everything accepted must be on disk before it is read back.
        await h.writer.flushed();
        const summary = await runAnalysis(h.ctx.store, s.row, [...s.boards.values()]);
        await h.setState(s, 'complete', { completedAt: h.now(), summary });
        await this.notifyComplete(s);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        h.ctx.log.error('session analysis failed', { session_id: s.row.sessionId, error: reason });
        await h.setState(s, 'failed', { completedAt: h.now(), failureReason: `analysis failed: ${reason}` }).catch(() => undefined);
      } finally {
        for (const id of s.row.boards) if (h.activeByBoard.get(id) === s.row.sessionId) h.activeByBoard.delete(id);
        h.live.delete(s.row.sessionId);
        h.noteClosed(s.row.sessionId);
      }
    })();
  }

  private async notifyComplete(s: LiveSession): Promise<void> {
    const { ctx } = this.h;
    const body = { type: 'analysis_complete_notification', session_id: s.row.sessionId, player_id: s.row.playerId, summary: s.row.summary, completed_at: s.row.completedAt?.toISOString() };
    if (s.row.playerId) await ctx.users.notify(s.row.playerId, body);
    ctx.operators.notifyAll(body);
    ctx.log.info('session analysis complete', { session_id: s.row.sessionId });
  }
}

/** An open session as the session manager holds it in memory. */
import type { SessionRow } from '../store/types.js';
import type { BoardProgress } from './json.js';
import type { BoardFeed } from './feed.js';

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

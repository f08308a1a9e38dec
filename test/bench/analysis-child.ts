/**
 * Runs the gateway's stroke analysis on one stored session in a process of
 * its own (data.ts): `node --import tsx analysis-child.ts DB SESSION_ID`.
 * Prints one JSON line: { ms, cpu_s, peak_mb, samples, strokes }.
 */
import { readFileSync } from 'node:fs';
import { openStore } from '../../main/gateway/store/index.js';
import { runAnalysis } from '../../main/gateway/sessions/analysis-run.js';
import type { BoardProgress } from '../../main/gateway/sessions/json.js';

const [db, sessionId] = process.argv.slice(2);
if (!db || !sessionId) {
  process.stderr.write('usage: analysis-child.ts DB SESSION_ID\n');
  process.exit(2);
}
const store = await openStore(db);
const row = await store.getSession(sessionId);
if (!row) throw new Error(`no session ${sessionId}`);
const stats = new Map((await store.chunkStats(sessionId)).map((s) => [s.deviceId, s]));
const boards: BoardProgress[] = row.boards.map((id) => ({
  deviceId: id, accepted: new Set(), durable: new Set(), frames: stats.get(id)?.frames ?? 0, samples: stats.get(id)?.samples ?? 0, finalSeq: (stats.get(id)?.maxSeq ?? null), lastSeq: stats.get(id)?.maxSeq ?? null,
}));
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const summary = await runAnalysis(store, row, boards);
const ms = Math.round(performance.now() - t0);
const cpu = process.cpuUsage(cpu0);
const strokes = (await store.listStrokes(sessionId)).length;
await store.close();
const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
const samples = Object.values(summary.boards).reduce((n, b) => n + b.samples, 0);
process.stdout.write(JSON.stringify({ ms, cpu_s: Math.round((cpu.user + cpu.system) / 1e5) / 10, peak_mb: Math.round(hwm / 102.4) / 10, samples, strokes }) + '\n');

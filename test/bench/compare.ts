/**
 * `npm run bench:compare -- RUN.json [--baseline bench/baseline.json] [--max-regression 1.5]`:
 * compares a saved `npm run bench` document with the committed baseline, one
 * line per metric: baseline, run, and run/baseline (for metrics where more is
 * better the ratio is inverted, so above 1 always means worse). Prefer the
 * ratios to peers (Courtside over the bare relay measured in the same run):
 * on a shared machine they move far less than absolute figures.
 *
 * Not a timed test: exit 0 unless a metric is worse than --max-regression
 * times its baseline (default 1.5, i.e. 50 % worse), 1 then, 2 on bad usage.
 * Metrics missing from either document are listed and skipped.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

function fail(msg: string): never {
  process.stderr.write(`bench-compare: ${msg}\n`);
  process.exit(2);
}
let parsed;
try {
  parsed = parseArgs({ strict: true, allowPositionals: true, options: { baseline: { type: 'string', default: 'bench/baseline.json' }, 'max-regression': { type: 'string', default: '1.5' } } });
} catch (e) {
  fail((e instanceof Error ? e.message : String(e)).split(/\.\s|\n/)[0]!);
}
const [runFile] = parsed.positionals;
if (!runFile || parsed.positionals.length !== 1) fail('usage: compare.ts RUN.json [--baseline FILE] [--max-regression X]');
const maxRegression = Number(parsed.values['max-regression']);
if (!(maxRegression > 1)) fail(`--max-regression must be a number > 1, got '${parsed.values['max-regression']}'`);
const read = (f: string): unknown => {
  try { return JSON.parse(readFileSync(f, 'utf8')); } catch (e) { return fail(`${f}: ${e instanceof Error ? e.message : String(e)}`); }
};
const base = read(parsed.values.baseline);
const run = read(runFile);

/** A path into the document; `[mode=sample]` picks the array element with that field. */
function at(doc: unknown, path: string): number | undefined {
  let cur: unknown = doc;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const m = /^\[(\w+)=([\w-]+)\]$/.exec(part);
    if (m) cur = (cur as Record<string, unknown>[]).find?.((x) => String(x[m[1]!]) === m[2]);
    else cur = (cur as Record<string, unknown>)[part];
  }
  return typeof cur === 'number' && Number.isFinite(cur) ? cur : undefined;
}

type Better = 'lower' | 'higher';
const W = (part: string, mode: string) => `${part}.workloads.[mode=${mode}]`;
const METRICS: [string, Better][] = [
  [`${W('fanout', 'batch')}.ratios.courtside_over_bare.server_cpu`, 'lower'],
  [`${W('fanout', 'batch')}.ratios.courtside_over_bare.p50`, 'lower'],
  [`${W('fanout', 'batch')}.ratios.courtside_over_bare_ack.server_cpu`, 'lower'],
  [`${W('fanout', 'batch')}.ratios.courtside_rec_over_bare.server_cpu`, 'lower'],
  [`${W('fanout', 'batch')}.ratios.courtside_rec_over_bare.p50`, 'lower'],
  [`${W('fanout_cumulative', 'batch')}.ratios.courtside_over_bare.server_cpu`, 'lower'],
  [`${W('fanout_cumulative', 'batch')}.ratios.courtside_over_bare.p50`, 'lower'],
  [`${W('fanout_cumulative', 'batch')}.ratios.courtside_rec_over_bare.server_cpu`, 'lower'],
  [`${W('fanout_cumulative', 'batch')}.ratios.courtside_rec_over_bare_store.server_cpu`, 'lower'],
  [`${W('fanout_200', 'batch')}.servers.courtside.latency_ms.p99`, 'lower'],
  [`${W('fanout_200', 'batch')}.servers.courtside-rec.latency_ms.p99`, 'lower'],
  [`${W('fanout_200', 'batch')}.ratios.courtside_over_bare.p99`, 'lower'],
  ['idle.ratios.courtside_over_bare_rss_per_board', 'lower'],
  ['idle.servers.courtside.rss_per_board_kb', 'lower'],
  ['idle.servers.courtside.reply_ms_max', 'lower'],
  ['ingest.runs.[mode=binary].samples_per_s', 'higher'],
  ['ingest.runs.[mode=json].samples_per_s', 'higher'],
  ['data.export.samples_per_s', 'higher'],
  ['data.export.samples_per_cpu_s', 'higher'],
  ['data.export.peak_mb', 'lower'],
  ['data.analysis.ms', 'lower'],
  ['data.analysis.cpu_s', 'lower'],
  ['data.api.list_sessions_500.median_ms', 'lower'],
  ['data.api.device_list.median_ms', 'lower'],
];
// Lost samples are not a ratio: any at all where the baseline had none is a regression.
const ZERO: string[] = [`${W('fanout_200', 'batch')}.servers.courtside.lost`, `${W('fanout_200', 'batch')}.servers.courtside-rec.lost`];

let worse = 0;
const rows: string[] = [];
const r2 = (x: number) => (Math.round(x * 100) / 100).toString();
for (const [path, better] of METRICS) {
  const b = at(base, path);
  const r = at(run, path);
  if (b === undefined || r === undefined) { rows.push(`skip   ${path} (${b === undefined ? 'not in baseline' : 'not in run'})`); continue; }
  const ratio = better === 'lower' ? (b > 0 ? r / b : r > 0 ? Infinity : 1) : r > 0 ? b / r : Infinity;
  const bad = ratio > maxRegression;
  if (bad) worse++;
  rows.push(`${bad ? 'WORSE' : 'ok   '}  ${path}: baseline ${r2(b)}, run ${r2(r)}, ${r2(ratio)}x${better === 'higher' ? ' (inverted)' : ''}`);
}
for (const path of ZERO) {
  const b = at(base, path);
  const r = at(run, path);
  if (b === undefined || r === undefined) { rows.push(`skip   ${path}`); continue; }
  const bad = r > b;
  if (bad) worse++;
  rows.push(`${bad ? 'WORSE' : 'ok   '}  ${path}: baseline ${b}, run ${r}`);
}
process.stdout.write(rows.join('\n') + `\n${worse} of ${METRICS.length + ZERO.length} metrics worse than ${maxRegression}x the baseline\n`);
process.exit(worse > 0 ? 1 : 0);

/**
 * `npm run bench`: every benchmark in one run, one JSON document on stdout:
 * the sensor fan-out against a bare ws relay and Socket.IO (run.ts), durable
 * ingest into SQLite and MariaDB (ingest.ts), and the Live view in headless
 * Chromium (ui-live.ts), fairness between connections (fairness.ts) and the fleet:
 * one gateway against two joined by Redis (fleet.ts). `--ui-minutes` (default 10) shortens the last; each
 * part can also run alone (npm run bench:fanout, bench:ingest, bench:ui).
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = resolve(fileURLToPath(import.meta.url), '..');
const root = resolve(here, '../..');

let uiMinutes = '10';
try {
  const { values } = parseArgs({ options: { 'ui-minutes': { type: 'string' } }, strict: true });
  if (values['ui-minutes'] !== undefined) uiMinutes = values['ui-minutes'];
} catch (err) {
  process.stderr.write(`bench: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}\n`);
  process.exit(2);
}
if (!(Number(uiMinutes) > 0)) {
  process.stderr.write(`bench: --ui-minutes must be a number > 0, got '${uiMinutes}'\n`);
  process.exit(2);
}

function run(script: string, args: string[] = []): Promise<{ code: number | null; json: unknown }> {
  return new Promise((ok) => {
    process.stderr.write(`bench: ${script} ${args.join(' ')}\n`);
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(here, script), ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      let json: unknown = null;
      try {
        json = JSON.parse(out);
      } catch {
        json = { error: 'no JSON output', output: out.slice(-2000) };
      }
      ok({ code, json });
    });
  });
}

const fanout = await run('run.ts');
const ingest = await run('ingest.ts');
const ui = await run('ui-live.ts', ['--minutes', uiMinutes]);
const fairness = await run('fairness.ts');
const fleet = await run('fleet.ts');
process.stdout.write(JSON.stringify({ fanout: fanout.json, ingest: ingest.json, ui_live: ui.json, fairness: fairness.json, fleet: fleet.json }, null, 2) + '\n');
process.exit([fanout, ingest, ui, fairness, fleet].some((r) => r.code !== 0) ? 1 : 0);

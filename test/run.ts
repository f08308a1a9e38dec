/**
 * Runs every test file under test/ (or the files/folders named on the command
 * line) with node's test runner, prints the spec report, and ends with the
 * line CI reads: `N passed, N failed[, N skipped]`.
 *
 * Node 20's `--test` takes no globs, hence this small walker.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../..');

function collect(path: string, out: string[]): void {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      if (name === 'node_modules' || name === 'bench' || name.startsWith('.')) continue;
      collect(join(path, name), out);
    }
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
}

const targets = process.argv.slice(2);
const files: string[] = [];
for (const t of targets.length ? targets : [join(root, 'test')]) collect(resolve(t), files);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const summaryFile = join(mkdtempSync(join(tmpdir(), 'courtside-test-')), 'summary.txt');
const child = spawn(
  process.execPath,
  [
    '--import', 'tsx',
    '--test',
    '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=' + join(root, 'test/support/summary-reporter.mjs'), '--test-reporter-destination=' + summaryFile,
    ...files,
  ],
  // No test may multicast or broadcast on the host's network: `courtside serve` started by a test
  // keeps discovery off; discovery itself is tested inside network namespaces.
  { stdio: 'inherit', cwd: root, env: { ...process.env, COURTSIDE_DISCOVERY: 'off' } },
);
// A runner stopped from outside (CI timeout, Ctrl-C) takes its test process with it.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  // Printed after the child is gone so the closing line is really the last one.
  let summary = '';
  try { summary = readFileSync(summaryFile, 'utf8'); } catch { summary = '\n0 passed, 1 failed\n'; }
  process.stdout.write(summary);
  process.exit(code ?? (signal ? 1 : 0));
});

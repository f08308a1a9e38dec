/**
 * Runs every test file under test/ (or the files/folders named on the command
 * line) with node's test runner in two groups, prints the spec report, and
 * ends with the one line CI reads, over both groups:
 * `N passed, N failed[, N skipped]`. The exit code is non-zero if either
 * group failed.
 *
 * Unit or integration, the rule:
 *   - integration: a file that talks to something real outside its own
 *     process: MariaDB, a child process (`courtside serve`, socat, python3,
 *     gcc), headless Chromium, network namespaces. Those are the folders and
 *     files in INTEGRATION below, and any file named `*.int.test.ts`.
 *     They run one file at a time: they compete for the database, the CPU
 *     their timings assume, and host-wide names (namespaces, ptys).
 *   - unit: everything else, including an in-process gateway on 127.0.0.1
 *     port 0 with SQLite in a temp folder. They run in parallel, first, so a
 *     broken build fails fast.
 * A new test that needs a real service goes in an integration folder, or is
 * named `*.int.test.ts`, or is added to INTEGRATION.
 *
 * Before the first file: the set-up in test/support/services.ts (system
 * packages, a private MariaDB and, when a test needs it, Redis; Chromium's
 * path), stopped and removed when the run ends, however it ends. Files that
 * need root (network namespaces, see ROOT_ONLY) are left out with one line
 * each when the run is not root, except in CI, where they fail the run.
 *
 * Benchmarks are not tests: test/bench/ is skipped here and run by
 * `npm run bench` (its own checks: `npm run bench:check`).
 *
 * Node 20's `--test` takes no globs, hence this small walker.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setUpServices, type Services } from './support/services.js';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const testDir = join(root, 'test');

/** Paths under test/; a folder ends with `/`, anything else is a file-name prefix. */
const INTEGRATION = [
  'bench/', // the benchmark CLIs as processes (only with `npm run bench:check`)
  'cli/', // `courtside serve` as a process
  'e2e/', // headless Chromium against a gateway
  'sessions/', // MariaDB, gateways killed mid-write, database outages
  'usb/', // socat pty pairs standing in for boards
  'discovery/netns-', // network namespaces
  'electron/', // the desktop composition in a network namespace
  'hardening/http-fuzz.test.ts', // courtside serve as a process
  'gateway/seed-clients.test.ts', // the Python seed clients, MariaDB
  'hardening/frozen-disk.test.ts', // a loop-mounted file system frozen with fsfreeze
  'hardening/status-depth.test.ts', // MariaDB
  'protocol/c-header.test.ts', // gcc
  'protocol/schemas.test.ts', // the schema exporter as a process
  'store/mysql.test.ts', // MariaDB
  'store/sqlite.test.ts', // a second process on the same database file
];

/** What a file that needs root contains: the network-namespace helper (`ip netns` needs CAP_SYS_ADMIN). */
const ROOT_ONLY = [{ marker: 'support/netns', why: 'needs root (network namespaces)' }];

function rootOnly(file: string): string | undefined {
  const text = readFileSync(file, 'utf8');
  return ROOT_ONLY.find((r) => text.includes(r.marker))?.why;
}

function isIntegration(file: string): boolean {
  const rel = relative(testDir, file).split(sep).join('/');
  return rel.endsWith('.int.test.ts') || INTEGRATION.some((p) => rel.startsWith(p));
}

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

interface Summary { passed: number; failed: number; skipped: number; failures: string[] }

let current: ReturnType<typeof spawn> | undefined;
// A runner stopped from outside (CI timeout, Ctrl-C) takes its test process with it; the private
// servers' watchdog sees the runner go and removes them.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    current?.kill(sig);
    process.exit(1);
  });
}

function runGroup(files: string[], concurrency: number, serviceEnv: Record<string, string>): Promise<{ code: number; summary: Summary }> {
  const summaryFile = join(mkdtempSync(join(tmpdir(), 'courtside-test-')), 'summary.json');
  return new Promise((done) => {
    const child = spawn(
      process.execPath,
      [
        '--import', 'tsx',
        '--test',
        `--test-concurrency=${concurrency}`,
        // A file whose failed test left a socket or a timer behind ends when its tests have, rather
        // than holding up the run until the CI timeout.
        '--test-force-exit',
        '--test-reporter=spec', '--test-reporter-destination=stdout',
        '--test-reporter=' + join(root, 'test/support/summary-reporter.mjs'), '--test-reporter-destination=' + summaryFile + '.stream',
        ...files,
      ],
      // No test may multicast or broadcast on the host's network: `courtside serve` started by a test
      // keeps discovery off; discovery itself is tested inside network namespaces.
      { stdio: 'inherit', cwd: root, env: { ...process.env, ...serviceEnv, COURTSIDE_DISCOVERY: 'off', COURTSIDE_TEST_SUMMARY: summaryFile } },
    );
    current = child;
    child.on('exit', (code, signal) => {
      let summary: Summary;
      try {
        summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;
      } catch {
        summary = { passed: 0, failed: 1, skipped: 0, failures: ['(the test runner ended without a summary)'] };
      }
      done({ code: code ?? (signal ? 1 : 0), summary });
    });
  });
}

const targets = process.argv.slice(2);
const files: string[] = [];
for (const t of targets.length ? targets : [testDir]) collect(resolve(t), files);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const skippedFiles: string[] = [];
if (process.getuid?.() !== 0 && !process.env.CI) {
  for (const f of [...files]) {
    const why = rootOnly(f);
    if (!why) continue;
    files.splice(files.indexOf(f), 1);
    skippedFiles.push(f);
    process.stdout.write(`not run: ${relative(root, f)}: ${why}\n`);
  }
}

let services: Services;
try {
  services = await setUpServices({ files, strict: targets.length === 0 || !!process.env.CI, log: (line) => process.stdout.write(`== set-up: ${line}\n`) });
} catch (err) {
  process.stderr.write(`\n${(err as Error).message}\n`);
  process.stdout.write('\n0 passed, 1 failed\n');
  process.exit(1);
}

const unitConcurrency = Number(process.env.COURTSIDE_TEST_CONCURRENCY) || Math.max(2, availableParallelism());
const groups = [
  { name: 'unit', files: files.filter((f) => !isIntegration(f)), concurrency: unitConcurrency },
  { name: 'integration', files: files.filter(isIntegration), concurrency: 1 },
].filter((g) => g.files.length > 0);

const total: Summary = { passed: 0, failed: 0, skipped: 0, failures: [] };
let exitCode = 0;
for (const g of groups) {
  const started = Date.now();
  process.stdout.write(`\n== ${g.name} tests: ${g.files.length} files, ${g.concurrency === 1 ? 'one at a time' : `${g.concurrency} at a time`}\n`);
  const { code, summary } = await runGroup(g.files, g.concurrency, services.env);
  process.stdout.write(`== ${g.name} tests: ${summary.passed} passed, ${summary.failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  total.passed += summary.passed;
  total.failed += summary.failed;
  total.skipped += summary.skipped;
  total.failures.push(...summary.failures);
  if (code !== 0 || summary.failed > 0) exitCode = code || 1;
}

await services.stop();
if (skippedFiles.length) process.stdout.write(`\n${skippedFiles.length} file(s) not run: they need root\n`);
// Printed after the children are gone so the closing line is really the last one.
if (total.failures.length) process.stdout.write(`\nfailed tests:\n${total.failures.map((f) => '  ' + f).join('\n')}\n`);
process.stdout.write(`\n${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}\n`);
process.exit(exitCode);

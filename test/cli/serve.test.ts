/**
 * `courtside` and `courtside serve` as an operator runs them: help, flag
 * errors, the printed URLs, a clean stop. Most run in this process through
 * the dispatcher; the binary itself is checked for its exit codes and signals.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { serveCommand } from '../../main/cli/serve.js';
import { captureIO, runCli, runInProcess, startCli } from '../support/cli.js';
import { eventually, TestClient } from '../support/gateway.js';

describe('courtside CLI', () => {
  test('--help lists the commands; no command is a usage error', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    for (const c of ['serve', 'simulate', 'analyze', 'discover', 'nvs']) assert.match(help.stdout, new RegExp(`^  ${c} `, 'm'));
    const none = await runCli([]);
    assert.equal(none.code, 2);
  });

  test('the binary: a mistyped flag or command is one line with a suggestion and exit code 2', async () => {
    const flag = await runCli(['serve', '--prot', '8765']);
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, 'courtside serve: unknown option --prot (did you mean --port?)\n');
    assert.equal(flag.stdout, '');
    const command = await runCli(['serv']);
    assert.equal(command.code, 2);
    assert.equal(command.stderr, "courtside: unknown command 'serv' (did you mean serve?)\n");
  });

  test('an unknown command or flag, or a bad value: one line on stderr, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /^courtside: unknown command 'frobnicate' \(see courtside --help\)\n$/],
      [['serve', '--bogus'], /^courtside serve: unknown option --bogus \(see --help\)\n$/],
      [['serve', '--port', 'eighty'], /^courtside serve: --port must be a whole number, got 'eighty'\n$/],
      [['serve', '--port', '70000'], /^courtside serve: --port must be between 0 and 65535, got 70000\n$/],
      [['serve', '--device-auth', 'maybe'], /^courtside serve: --device-auth must be one of open, token, got 'maybe'\n$/],
      [['serve', '--log-level', 'loud'], /^courtside serve: --log-level must be one of error, warn, info, debug, got 'loud'\n$/],
      [['serve', '--demo', '-1'], /^courtside serve: option --demo got a value starting with '-'; write it as --demo=VALUE\n$/],
      [['serve', '--demo=-1'], /^courtside serve: --demo must be a whole number, got '-1'\n$/],
      [['serve', '--port'], /^courtside serve: option --port needs a value\n$/],
      [['serve', '--operator-token', 'short'], /^courtside serve: operator token must be 16 to 256 characters/],
      [['serve', 'extra'], /^courtside serve: unexpected argument 'extra'/],
    ];
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-cli-'));
    try {
      for (const [args, err] of cases) {
        const r = await runInProcess([args[0]!, '--data-dir', dataDir, ...args.slice(1)]);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, err, args.join(' '));
        assert.equal(r.stderr.trim().split('\n').length, 1, args.join(' '));
        assert.equal(r.stdout, '');
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('serve --help documents every flag with its default', async () => {
    const r = await runInProcess(['serve', '--help']);
    assert.equal(r.code, 0);
    for (const f of ['--host', '--port', '--db', '--data-dir', '--operator-token', '--device-auth', '--log-level', '--demo']) assert.ok(r.stdout.includes(f), f);
    assert.match(r.stdout, /default 8765/);
  });

  test('serve prints the address and the operator URL with its token, keeps the token, and stops cleanly on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-cli-'));
    try {
      const run = await startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], /operator: +(http:\/\/127\.0\.0\.1:(\d+)\/\?token=([A-Za-z0-9_-]+))\n/);
      const [, url, port, token] = run.match;
      assert.match(run.stdout(), /^Courtside \S+ listening on 127\.0\.0\.1:\d+ \(sqlite:.*courtside\.sqlite\)$/m);
      assert.equal(readFileSync(join(dataDir, 'operator-token'), 'utf8').trim(), token);
      const health = await fetch(`http://127.0.0.1:${port}/api/health`);
      assert.equal(health.status, 200);
      const status = await fetch(url!.replace('/?', '/api/status?'));
      assert.equal(status.status, 200);
      const board = await TestClient.connect(`ws://127.0.0.1:${port}/ws/esp32/cli-board/`);
      assert.equal((await board.next()).type, 'connection_established');
      const exit = new Promise<number | null>((resolve) => run.proc.on('exit', resolve));
      run.proc.kill('SIGTERM');
      assert.equal(await exit, 0);
      assert.match(run.stdout(), /closed\n$/);
      assert.equal((await board.closed).code, 1001);

      // A second start on the same data folder prints the same token.
      const again = await startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], /token=([A-Za-z0-9_-]+)\n/);
      assert.equal(again.match[1], token);
      const exit2 = new Promise<number | null>((resolve) => again.proc.on('exit', resolve));
      again.proc.kill('SIGINT');
      assert.equal(await exit2, 0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('Ctrl-C in a terminal (SIGINT to the whole process group): the last writes land, no store error', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-cli-'));
    try {
      const run = await startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], /listening on 127\.0\.0\.1:(\d+)/, undefined, { group: true });
      const board = await TestClient.connect(`ws://127.0.0.1:${run.match[1]}/ws/esp32/ctrl-c-board/`);
      assert.equal((await board.next()).type, 'connection_established');
      // The board's connection is on disk before the signal, so the shutdown's own writes are what is checked.
      const dbFile = join(dataDir, 'courtside.sqlite');
      await eventually(() => {
        const d = new Database(dbFile, { readonly: true });
        try {
          return (d.prepare("SELECT COUNT(*) AS n FROM connections WHERE device_id = 'ctrl-c-board'").get() as { n: number }).n === 1;
        } finally {
          d.close();
        }
      });
      const exit = new Promise<number | null>((resolve) => run.proc.on('exit', resolve));
      // What the terminal does: the gateway and the SQLite writer it started both get the signal.
      process.kill(-run.proc.pid!, 'SIGINT');
      assert.equal(await exit, 0);
      assert.equal(run.stderr(), '');
      const db = new Database(join(dataDir, 'courtside.sqlite'), { readonly: true });
      try {
        const rows = db.prepare("SELECT disconnected_at FROM connections WHERE device_id = 'ctrl-c-board'").all() as { disconnected_at: number | null }[];
        assert.equal(rows.length, 1);
        assert.notEqual(rows[0]!.disconnected_at, null, 'the board disconnection was written during the shutdown');
      } finally {
        db.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('serve with an unreachable MySQL says so in one line and exits 1', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-cli-'));
    try {
      const r = await runInProcess(['serve', '--port', '0', '--data-dir', dataDir, '--db', 'mysql://u:secret@127.0.0.1:1/db']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^courtside serve: cannot open the database: .*127\.0\.0\.1:1/);
      assert.doesNotMatch(r.stderr, /secret/);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('serve in this process: prints its URLs, answers, and closes on a stop request', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-cli-'));
    const c = captureIO();
    const run = serveCommand(['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], c.io);
    try {
      const [, port] = await c.waitFor(/operator: +http:\/\/127\.0\.0\.1:(\d+)\/\?token=[A-Za-z0-9_-]+\n/);
      assert.equal((await fetch(`http://127.0.0.1:${port}/api/health`)).status, 200);
      assert.equal(c.listeners(), 1, 'serve listens for Ctrl-C while running');
      c.stop('SIGTERM');
      assert.equal(await run, 0);
      assert.match(c.stdout(), /\nSIGTERM: closing \(flushing writes\)\.\.\.\nclosed\n$/);
      assert.equal(c.listeners(), 0);
      assert.equal(c.stderr(), '');
      await assert.rejects(fetch(`http://127.0.0.1:${port}/api/health`));
    } finally {
      c.stop('SIGTERM');
      await run;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('serve on a port in use says so and exits 1', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'courtside-cli-'));
    const first = captureIO();
    const running = serveCommand(['--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], first.io);
    try {
      const [, port] = await first.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
      const r = await runInProcess(['serve', '--host', '127.0.0.1', '--port', port!, '--data-dir', dataDir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^courtside serve: port ${port} is already in use; choose another with --port\\n$`));
    } finally {
      first.stop('SIGTERM');
      await running;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * A test run's own MariaDB and Redis: a data directory, socket and free port
 * under one temporary folder per run, no system service, no root needed.
 *
 * Cleanup does not depend on the run ending well. Each run starts a watchdog
 * (a detached `sh`, out of the terminal's reach) that reads its stdin, a pipe
 * from the runner: when the runner goes, however it goes (done, Ctrl-C,
 * crash, SIGKILL), the pipe closes and the watchdog stops every server named
 * by a `*.pid` file in the run folder and removes the folder. A run folder
 * whose owner is gone (the watchdog was killed too) is swept by the next run.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { findProgram } from './services-packages.js';

const run = promisify(execFile);
const PREFIX = 'courtside-services-';
/** The processes a `*.pid` file in a run folder may name; anything else there is a reused pid. */
const OURS = new Set(['mariadbd', 'redis-server']);

export const MYSQL_USER = 'courtside';
export const MYSQL_PASSWORD = 'courtside';

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Alive and not a zombie. /proc/<pid>/stat, never cmdline: that can block on a process stuck in the kernel. */
function procState(pid: number): { comm: string; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), state: stat.slice(close + 2, close + 3) };
  } catch {
    return undefined;
  }
}

export function alive(pid: number): boolean {
  const s = procState(pid);
  return s !== undefined && s.state !== 'Z';
}

const WATCHDOG = `
dir="$1"
read -r _ || true
pids=""
for f in "$dir"/*.pid; do
  [ -f "$f" ] || continue
  pid=$(cat "$f" 2>/dev/null) || continue
  case "$(cut -d' ' -f2 "/proc/$pid/stat" 2>/dev/null)" in
    "(mariadbd)"|"(redis-server)") kill -TERM "$pid" 2>/dev/null && pids="$pids $pid" ;;
  esac
done
n=0
for pid in $pids; do
  while kill -0 "$pid" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ] && [ $n -lt 150 ]; do sleep 0.2; n=$((n+1)); done
  kill -KILL "$pid" 2>/dev/null
done
rm -rf "$dir"
`;

/** Run folders of runs that are gone, with anything still running from them. */
export function sweepStale(log: (line: string) => void): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const dir = join(tmpdir(), name);
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(dir, 'owner'), 'utf8'));
    } catch {
      // A folder without an owner file is one whose run died while creating it.
    }
    if (Number.isInteger(owner) && alive(owner)) continue;
    try {
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.pid'))) {
        const pid = Number(readFileSync(join(dir, f), 'utf8'));
        if (Number.isInteger(pid) && OURS.has(procState(pid)?.comm ?? '')) process.kill(pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
      log(`removed ${dir}, left by an earlier run`);
    } catch {
      // Another user's folder: not ours to clean.
    }
  }
}

export interface RunFolder {
  dir: string;
  /** Stops what runs from the folder and removes it; resolves when both are done. */
  close(): Promise<void>;
}

export function createRunFolder(): RunFolder {
  const dir = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(dir, 'owner'), String(process.pid));
  const watchdog: ChildProcess = spawn('/bin/sh', ['-c', WATCHDOG, 'courtside-watchdog', dir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.unref();
  const stdin = watchdog.stdin as unknown as { unref(): void; end(): void };
  stdin.unref();
  return {
    dir,
    async close() {
      if (watchdog.exitCode !== null || watchdog.signalCode !== null) return;
      const exited = once(watchdog, 'exit');
      // Unreferenced so far (a runner that dies must not wait for it); now the runner waits.
      watchdog.ref();
      stdin.end();
      await exited;
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitUntil(what: string, ready: () => Promise<boolean>, failed: () => string | undefined, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    const why = failed();
    if (why) throw new Error(`${what}: ${why}`);
    if (Date.now() > end) throw new Error(`${what}: not ready within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** How to start the private MariaDB again after a test stopped it; exported to the tests as a JSON file. */
export interface MariadbControl {
  bin: string;
  args: string[];
  socket: string;
  pidFile: string;
  log: string;
}

async function rootPing(c: MariadbControl): Promise<boolean> {
  try {
    const conn = await mysql.createConnection({ socketPath: c.socket, user: 'root', connectTimeout: 2000 });
    await conn.end();
    return true;
  } catch {
    return false;
  }
}

/** Starts mariadbd from a control file's arguments (detached: it outlives the caller, the watchdog ends it). */
export async function launchMariadb(c: MariadbControl): Promise<void> {
  if (await rootPing(c)) return;
  const child = spawn(c.bin, c.args, { detached: true, stdio: 'ignore' });
  child.unref();
  let exit: string | undefined;
  child.once('exit', (code, sig) => (exit = `mariadbd exited (${sig ?? code}); last lines of ${c.log}:\n${tail(c.log)}`));
  child.once('error', (err) => (exit = `could not start ${c.bin}: ${err.message}`));
  await waitUntil('the private MariaDB', () => rootPing(c), () => exit, 60_000);
}

/** Stops it as a shutdown would (SIGTERM) and waits until the process is gone. */
export async function haltMariadb(c: MariadbControl): Promise<void> {
  const pid = Number(readFileSync(c.pidFile, 'utf8'));
  process.kill(pid, 'SIGTERM');
  await waitUntil('MariaDB shutdown', async () => !alive(pid), () => undefined, 60_000);
}

export async function startMariadb(folder: RunFolder): Promise<{ url: string; controlFile: string }> {
  const bin = findProgram('mariadbd');
  const installDb = findProgram('mariadb-install-db');
  if (!bin || !installDb) throw new Error('mariadbd or mariadb-install-db not found (Debian: apt-get install mariadb-server)');
  const base = join(folder.dir, 'mariadb');
  const data = join(base, 'data');
  mkdirSync(base);
  // As root mariadbd refuses to run unless told which user to be; root is the one that can read the folder.
  const asUser = isRoot() ? ['--user=root'] : [];
  // --no-defaults first: never the system's my.cnf, whose datadir, socket and port belong to the system server.
  await run(installDb, ['--no-defaults', `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...asUser], { timeout: 120_000 }).catch((err: Error & { stderr?: string }) => {
    throw new Error(`mariadb-install-db failed: ${err.stderr || err.message}`);
  });
  const port = await freePort();
  const c: MariadbControl = {
    bin,
    socket: join(base, 'mysqld.sock'),
    pidFile: join(folder.dir, 'mariadbd.pid'),
    log: join(base, 'mariadbd.log'),
    args: [],
  };
  c.args = [
    '--no-defaults',
    `--datadir=${data}`,
    `--socket=${c.socket}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--pid-file=${c.pidFile}`,
    `--log-error=${c.log}`,
    `--tmpdir=${base}`,
    // What Debian's server configuration sets, so the tests see the server they would see there.
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_general_ci',
    ...asUser,
  ];
  await launchMariadb(c);
  const conn = await mysql.createConnection({ socketPath: c.socket, user: 'root' });
  try {
    for (const host of ['localhost', '127.0.0.1']) {
      await conn.query(`CREATE USER '${MYSQL_USER}'@'${host}' IDENTIFIED BY '${MYSQL_PASSWORD}'`);
      await conn.query(`GRANT ALL PRIVILEGES ON *.* TO '${MYSQL_USER}'@'${host}'`);
    }
    await conn.query('CREATE DATABASE courtside CHARACTER SET utf8mb4');
  } finally {
    await conn.end();
  }
  const controlFile = join(base, 'control.json');
  writeFileSync(controlFile, JSON.stringify(c, null, 2));
  return { url: `mysql://${MYSQL_USER}:${MYSQL_PASSWORD}@127.0.0.1:${port}/courtside`, controlFile };
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    let got = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2000, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n')) done(got.startsWith('+PONG'));
    });
  });
}

export async function startRedis(folder: RunFolder): Promise<{ url: string }> {
  const bin = findProgram('redis-server');
  if (!bin) throw new Error('redis-server not found (Debian: apt-get install redis-server)');
  const base = join(folder.dir, 'redis');
  mkdirSync(base);
  const port = await freePort();
  const log = join(base, 'redis.log');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', base, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', log];
  const child = spawn(bin, args, { detached: true, stdio: 'ignore' });
  child.unref();
  let exit: string | undefined;
  child.once('exit', (code, sig) => (exit = `redis-server exited (${sig ?? code}); last lines of ${log}:\n${tail(log)}`));
  child.once('error', (err) => (exit = `could not start ${bin}: ${err.message}`));
  if (child.pid) writeFileSync(join(folder.dir, 'redis-server.pid'), String(child.pid));
  await waitUntil('the private Redis', () => redisPing(port), () => exit, 30_000);
  return { url: `redis://127.0.0.1:${port}` };
}

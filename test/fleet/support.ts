/**
 * Fleet tests' pieces: a Redis of the test's own (so it can be stopped with SIGSTOP and
 * resumed) and `courtside serve` processes joined to it and to one MariaDB database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli } from '../support/cli.js';
import { freePort, waitFor } from '../sessions/support.js';
import { Redis } from 'ioredis';
import { after, before } from 'node:test';
import { freshMysqlUrl, type FreshMysql } from '../support/mysql.js';
import { roomClient as sharedRoomClient, type Frame, type TestClient } from '../support/gateway.js';

export const TOKEN = 'fleet-test-operator-token-0123';

export interface TestRedis {
  url: string;
  proc: ChildProcess;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** `port`: the same port again, for a Redis restarted empty where the gateways expect it. */
export async function startOwnRedis(port?: number): Promise<TestRedis & { port: number }> {
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'courtside-fleet-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  probe.on('error', () => undefined);
  await waitFor('redis-server answers', async () => (await probe.ping().catch(() => null)) === 'PONG', 10_000);
  probe.disconnect();
  return {
    url,
    port,
    proc,
    pause: () => proc.kill('SIGSTOP'),
    resume: () => proc.kill('SIGCONT'),
    async stop() {
      proc.kill('SIGCONT');
      proc.kill('SIGKILL');
      if (proc.exitCode === null && proc.signalCode === null) await new Promise((r) => proc.once('exit', r));
    },
  };
}

export interface ServeProc {
  proc: ChildProcess;
  port: number;
  url: string;
  http: string;
  dataDir: string;
  stderr: () => string;
  stop(): Promise<void>;
}

export async function startServe(o: { redis: string; db: string; dataDir?: string; port?: number; args?: string[] }): Promise<ServeProc> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'courtside-fleet-gw-'));
  const port = o.port ?? (await freePort());
  const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--db', o.db, '--redis', o.redis, '--data-dir', dataDir, '--operator-token', TOKEN, '--log-level', 'warn', ...(o.args ?? [])];
  const s = await startCli(args, /listening on 127\.0\.0\.1:(\d+)/, { COURTSIDE_DISCOVERY: 'off' });
  return {
    proc: s.proc,
    port,
    url: `ws://127.0.0.1:${port}`,
    http: `http://127.0.0.1:${port}`,
    dataDir,
    stderr: s.stderr,
    async stop() {
      if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
      s.proc.kill('SIGTERM');
      await new Promise((r) => s.proc.once('exit', r));
    },
  };
}

export async function api(gw: { http: string }, path: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const res = await fetch(gw.http + '/api' + path, { ...init, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  return { status: res.status, ...((await res.json()) as Record<string, unknown>) };
}

export interface FleetPair {
  redis: TestRedis & { port: number };
  db: FreshMysql;
  a: ServeProc;
  b: ServeProc;
}

/**
 * Registers the file's before/after hooks: a Redis of its own, a fresh MariaDB database and
 * two gateways (A and B) on both, each started with `args`. The fields are set once `before`
 * ran; a test may replace `redis` (a Redis restarted empty) and the hooks stop the new one.
 * The hooks resume anything a test left frozen with SIGSTOP, so a failed test cannot hang them.
 */
export function fleetPair(args: string[] = []): FleetPair {
  const f = {} as FleetPair;
  before(async () => {
    f.redis = await startOwnRedis();
    f.db = await freshMysqlUrl();
    f.a = await startServe({ redis: f.redis.url, db: f.db.url, args });
    f.b = await startServe({ redis: f.redis.url, db: f.db.url, args });
  });
  after(async () => {
    f.redis?.resume();
    for (const gw of [f.a, f.b]) gw?.proc.kill('SIGCONT');
    await Promise.all([f.a?.stop(), f.b?.stop()]);
    await f.redis?.stop();
    await f.db?.drop();
  });
  return f;
}

/** A room-protocol client on `gw` that sent `identity` and got its connection and room frames (5 s each: gateways in their own processes). */
export function roomClient(gw: ServeProc, identity: Record<string, unknown>): Promise<{ c: TestClient; room: Frame }> {
  return sharedRoomClient(gw, identity, 5000);
}

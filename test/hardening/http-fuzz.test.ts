/**
 * Hostile bytes at the HTTP layer, against `courtside serve` as shipped (a
 * real process, so a crash shows as an exit): the request line that used to
 * kill it, a bad %-escape with a token in the query, and thousands of
 * malformed request lines, headers and upgrade targets. Every one must end
 * in an HTTP answer (4xx for what is the client's fault) or a closed socket,
 * and the gateway must still answer /api/health.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli } from '../support/cli.js';
import { malformedRequest, rawHttp } from '../support/http-junk.js';

const TOKEN = 'fuzz-operator-token-0123456789';

describe('hostile HTTP requests against courtside serve', { timeout: 180_000 }, () => {
  let dataDir: string;
  let gw: Awaited<ReturnType<typeof startCli>>;
  let port: number;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'courtside-fuzz-'));
    gw = await startCli(['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--db', ':memory:', '--operator-token', TOKEN, '--log-level', 'info'], /listening on 127\.0\.0\.1:(\d+)/);
    port = Number(gw.match[1]);
  });
  after(() => {
    gw?.proc.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const health = async () => (await fetch(`http://127.0.0.1:${port}/api/health`)).status;

  test('the upgrade whose target is no URL gets a 400, and the gateway lives', async () => {
    const r = await rawHttp(port, 'GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n');
    assert.equal(r.status, 400, r.text);
    const r2 = await rawHttp(port, 'GET http://[ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    assert.equal(r2.status, 400, r2.text);
    assert.equal(gw.proc.exitCode, null);
    assert.equal(await health(), 200);
  });

  test('a bad %-escape is a 400 and the token in its query never reaches the log', async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/rooms/%ZZ?token=${TOKEN}`);
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST');
    const bearer = await fetch(`http://127.0.0.1:${port}/api/rooms/%ZZ`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(bearer.status, 400);
    const page = await fetch(`http://127.0.0.1:${port}/%E0%A4%A`);
    assert.equal(page.status, 400);
    // The startup lines print the operator URL once (to stdout, for the operator); the log is stderr.
    assert.doesNotMatch(gw.stderr(), new RegExp(TOKEN));
  });

  test('3000 malformed requests: each answered or closed, none a 5xx but 503, the gateway still healthy', async () => {
    const statuses = new Map<string, number>();
    const N = 3000;
    let next = 0;
    const worker = async () => {
      while (next < N) {
        const i = next++;
        const r = await rawHttp(port, malformedRequest(i));
        const key = r.status === null ? 'closed' : String(r.status);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        if (r.status !== null && r.status >= 500 && r.status !== 503) assert.fail(`request ${i} got ${r.status}: ${JSON.stringify(malformedRequest(i).toString('latin1').slice(0, 200))}`);
        if (i % 500 === 0) assert.equal(await health(), 200, `health after request ${i}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    assert.equal(gw.proc.exitCode, null, gw.stderr());
    assert.equal(await health(), 200);
    const answered = [...statuses].filter(([k]) => k !== 'closed').reduce((n, [, v]) => n + v, 0);
    // Most of them are parseable enough to be answered (400, 404, 401, 405...), not merely dropped.
    assert.ok(answered > N / 2, JSON.stringify(Object.fromEntries(statuses)));
    assert.doesNotMatch(gw.stderr(), /Uncaught|TypeError|URIError|RangeError/, gw.stderr().slice(-2000));
  });
});

/**
 * The OTA download server alone: byte ranges as esp_http_client asks for
 * them, HEAD, tokens bound to one image and revoked, and HTTPS with a
 * certificate (made by openssl, trusted by the client only through it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageServer, parseRange } from '../../main/gateway/ota/image-server.js';
import { ManualClock } from '../../main/gateway/clock.js';

const image = randomBytes(100_000);
const id = createHash('sha256').update(image).digest('hex');

describe('OTA download server', () => {
  const clock = new ManualClock(1_000_000);
  const server = new ImageServer({ read: (x) => (x === id ? image : undefined) }, { host: '127.0.0.1', port: 0, publicHost: () => '127.0.0.1', clock });
  before(() => server.start());
  after(() => server.close());

  test('parseRange: the forms a client sends', () => {
    assert.deepEqual(parseRange('bytes=0-', 10), { start: 0, end: 9 });
    assert.deepEqual(parseRange('bytes=2-4', 10), { start: 2, end: 4 });
    assert.deepEqual(parseRange('bytes=5-99', 10), { start: 5, end: 9 });
    assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
    for (const bad of ['bytes=10-', 'bytes=4-2', 'bytes=-', 'items=0-1', 'bytes=-0']) assert.equal(parseRange(bad, 10), 'bad', bad);
  });

  test('whole, resumed, HEAD; wrong image, spent and expired tokens refused', async () => {
    const g = server.grant('racket-1', id, 60_000);
    const whole = await fetch(g.url);
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-length'), String(image.length));
    assert.equal(whole.headers.get('x-firmware-sha256'), id);
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(image));
    const resumed = await fetch(g.url, { headers: { range: 'bytes=65536-' } });
    assert.equal(resumed.status, 206);
    assert.ok(Buffer.from(await resumed.arrayBuffer()).equals(image.subarray(65536)));
    const stale = await fetch(g.url, { headers: { range: 'bytes=10-', 'if-range': '"other"' } });
    assert.equal(stale.status, 200, 'a range for another version gets the whole file');
    await stale.arrayBuffer();
    const head = await fetch(g.url, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(image.length));
    assert.deepEqual(server.usage(g.token), { served: image.length * 2 + (image.length - 65536), requests: 4 });
    assert.equal((await fetch(g.url.replace(id, 'f'.repeat(64)))).status, 403);
    assert.equal((await fetch(g.url, { method: 'POST' })).status, 405);
    assert.equal((await fetch(g.url.replace('/ota/', '/x/'))).status, 404);
    server.revoke(g.token);
    assert.equal((await fetch(g.url)).status, 403);
    const short = server.grant('racket-2', id, 1000);
    clock.advance(1001);
    assert.equal((await fetch(short.url)).status, 403);
  });
});

describe('OTA download server over HTTPS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-ota-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  const clock = new ManualClock(0);
  const server = new ImageServer({ read: () => image }, { host: '127.0.0.1', port: 0, publicHost: () => '127.0.0.1', clock, tls: { cert, key: readFileSync(join(dir, 'key.pem')) } });
  before(() => server.start());
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('https:// links, served to a client that trusts the certificate', async () => {
    const g = server.grant('racket-1', id, 60_000);
    assert.match(g.url, /^https:\/\/127\.0\.0\.1:\d+\/ota\//);
    const body = await new Promise<Buffer>((resolve, reject) => {
      get(g.url, { ca: cert }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      }).on('error', reject);
    });
    assert.ok(body.equals(image));
  });
});

/**
 * A certificate renewed while the gateway runs: what discovery hands boards
 * (the mDNS TXT `sha256`, the UDP probe answer's `cert_sha256`) switches to
 * the new fingerprint at once, and a board that finds the gateway afterwards
 * pins the new certificate and connects. The gateway runs in namespace a on a
 * manual clock; boards probe and resolve from namespace b.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetnsPair, type NetnsPair, type NsChild } from '../support/netns.js';
import { opensslFingerprint } from '../support/tls.js';

const FIX = 'test/discovery/fixtures';
const PROBE = JSON.stringify({ type: 'courtside_probe', v: 1, device_id: 'racket-1' });

describe('a certificate renewed while running, as discovery tells it', { timeout: 120_000 }, () => {
  let net: NetnsPair;
  let gw: NsChild;
  const dataDir = mkdtempSync(join(tmpdir(), 'courtside-renew-'));
  const children: NsChild[] = [];

  async function probeAnswer(): Promise<Record<string, unknown>> {
    const c = net.node(net.b, `${FIX}/probe.ts`, [JSON.stringify({ port: 8766, waitMs: 1500, sends: [{ to: net.links[0]!.a, payload: PROBE }] })]);
    await c.waitFor((m) => m.event === 'done', 15_000, 'probe done');
    const answers = c.messages.filter((m) => m.event === 'answer');
    assert.equal(answers.length, 1, JSON.stringify(c.messages));
    return JSON.parse(String(answers[0]!.text)) as Record<string, unknown>;
  }

  async function foundByMdns(name: string): Promise<Record<string, unknown>> {
    const b = net.node(net.b, `${FIX}/board-connect.ts`, [JSON.stringify({ timeoutMs: 10_000, mdns: true, udp: false, interface: net.links[0]!.name }), name]);
    children.push(b);
    const found = await b.waitFor((m) => m.event === 'found', 20_000, 'found');
    await b.waitFor((m) => m.event === 'connected', 10_000, 'connected');
    return found;
  }

  before(async () => {
    net = await createNetnsPair();
    gw = net.node(net.a, `${FIX}/tls-renew.ts`, [dataDir]);
    await gw.waitFor((m) => m.event === 'listening', 30_000, 'listening');
  });
  after(async () => {
    for (const c of children) c.kill();
    gw?.kill();
    await net?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the probe answer and the mDNS TXT carry the new fingerprint after the renewal, and boards pin it', async () => {
    const first = String(gw.messages[0]!.fingerprint);
    assert.equal(first, opensslFingerprint(join(dataDir, 'tls-cert.pem')));
    const before = await probeAnswer();
    assert.equal(before.cert_sha256, first);
    assert.equal((await foundByMdns('before-renewal')).cert_sha256, first);

    gw.send('renew');
    const renewed = await gw.waitFor((m) => m.event === 'renewed', 30_000, 'renewed');
    const now = String(renewed.fingerprint);
    // The independent truth: openssl's fingerprint of the file the gateway now serves.
    assert.equal(now, opensslFingerprint(join(dataDir, 'tls-cert.pem')));
    assert.notEqual(now, first);
    assert.deepEqual(renewed.told, [now], 'the renewal listener (the banner\'s place) is told the new fingerprint once');
    assert.match(String(renewed.operator_url), new RegExp(`&sha256=${now}$`));

    const after = await probeAnswer();
    assert.equal(after.cert_sha256, now);
    assert.deepEqual(after.urls, [`wss://${net.links[0]!.a}:8765/`]);
    const found = await foundByMdns('after-renewal');
    assert.equal(found.cert_sha256, now, 'the TXT sha256 a board resolves now');
    assert.equal(found.url, `wss://${net.links[0]!.a}:8765/`);
  });
});

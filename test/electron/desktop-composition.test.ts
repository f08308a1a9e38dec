/**
 * The desktop app starts the same gateway as `courtside serve`: every part,
 * every operator request, discovery on by default, its settings from the
 * settings file in its data folder. Run without the Electron binary: the
 * composition lives in main/electron/compose.ts, which imports no electron.
 * Discovery runs for real inside a network namespace, and a board in the
 * other namespace finds the desktop gateway by mDNS alone and by the UDP
 * probe alone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNetnsPair, type NetnsPair, type NsChild } from '../support/netns.js';
import { captureIO } from '../support/cli.js';
import { serveCommand } from '../../main/cli/serve.js';
import { isGatewayCertificate } from '../../main/electron/compose.js';

const FIX = 'test/discovery/fixtures';
const TOKEN = 'desktop-operator-token-0123';

describe('the desktop composition', { timeout: 120_000 }, () => {
  let net: NetnsPair;
  let desktop: NsChild;
  let listening: Record<string, unknown>;
  const dataDir = mkdtempSync(join(tmpdir(), 'courtside-desktop-'));
  const children: NsChild[] = [];

  before(async () => {
    net = await createNetnsPair();
    // What an operator saved in the Settings view: the port, the database and device auth; discovery left at its default.
    writeFileSync(join(dataDir, 'settings.json'), JSON.stringify({ port: 8765, db: ':memory:', device_auth: 'open' }));
    writeFileSync(join(dataDir, 'operator-token'), TOKEN + '\n');
    desktop = net.node(net.a, `${FIX}/desktop.ts`, [dataDir]);
    listening = await desktop.waitFor((m) => m.event === 'listening', 30_000, 'listening');
  });
  after(async () => {
    for (const c of children) c.kill();
    desktop?.kill();
    await net?.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('it speaks TLS by default, with a certificate kept in its data folder', () => {
    assert.match(String(listening.fingerprint), /^[0-9a-f]{64}$/);
    assert.equal(listening.url, 'wss://0.0.0.0:8765'.replace('0.0.0.0', '127.0.0.1'));
    const pem = readFileSync(join(dataDir, 'tls-cert.pem'), 'utf8');
    assert.ok(isGatewayCertificate(pem, String(listening.fingerprint)), 'the window trusts the certificate the gateway serves');
    assert.ok(!isGatewayCertificate(pem, 'ab'.repeat(32)), 'and no other fingerprint');
  });

  test('it takes its port and database from settings.json and has discovery on by default', () => {
    assert.equal(listening.port, 8765);
    assert.deepEqual(listening.options, { device_auth: 'open', db: ':memory:' });
    const d = listening.discovery as { mdns: number; probe_port: number | null };
    assert.ok(d.mdns >= 1, JSON.stringify(d));
    assert.equal(d.probe_port, 8766);
  });

  test('it has every part and every operator request that courtside serve has', async () => {
    const io = captureIO({ env: { ...process.env, COURTSIDE_DISCOVERY: 'off' } });
    const serveDir = mkdtempSync(join(tmpdir(), 'courtside-serve-'));
    const running = serveCommand(['--host', '127.0.0.1', '--port', '0', '--data-dir', serveDir, '--db', ':memory:', '--operator-token', TOKEN, '--log-level', 'error'], io.io);
    try {
      const [, port] = await io.waitFor(/listening on 127\.0\.0\.1:(\d+)/);
      const status = (await (await fetch(`http://127.0.0.1:${port}/api/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { parts: string[]; requests: string[] };
      assert.deepEqual(listening.parts, status.parts);
      assert.deepEqual(listening.requests, [...status.requests].sort());
      for (const part of ['sessions', 'usb', 'discovery', 'settings']) assert.ok(status.parts.includes(part), part);
    } finally {
      io.stop('SIGTERM');
      await running;
      rmSync(serveDir, { recursive: true, force: true });
    }
  });

  for (const via of ['mdns', 'udp'] as const) {
    test(`a board in the other namespace finds the desktop gateway by ${via} alone and connects`, async () => {
      const l = net.links[0]!;
      const b = net.node(net.b, `${FIX}/board-connect.ts`, [JSON.stringify({ timeoutMs: 10_000, mdns: via === 'mdns', udp: via === 'udp', interface: l.name }), `desktop-${via}`]);
      children.push(b);
      const found = await b.waitFor((m) => m.event === 'found', 20_000, 'found');
      assert.equal(found.via, via);
      // The desktop app speaks TLS by default: discovery says wss:// and gives the fingerprint the board pins.
      assert.equal(found.url, `wss://${l.a}:8765/`);
      assert.equal(found.cert_sha256, listening.fingerprint);
      await b.waitFor((m) => m.event === 'connected', 10_000, 'connected');
    });
  }
});

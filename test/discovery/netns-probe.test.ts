/**
 * UDP probes, interface selection and the board-side finder, across two
 * namespaces joined by two links: csl0 (10.77.0.0/24) and csl1 (10.78.0.0/24).
 * The gateway in `a` runs on csl1 only; boards in `b` probe on both.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetnsPair, PYTHON, type NetnsPair, type NsChild } from '../support/netns.js';

const FIX = 'test/discovery/fixtures';
const STARTUP_MS = 12_000;
const PROBE = JSON.stringify({ type: 'courtside_probe', v: 1, device_id: 'racket-1' });

type Answer = { event: string; text?: string; from?: string };

describe('UDP probe and finding the gateway across namespaces', { timeout: 60_000 }, () => {
  let net: NetnsPair;
  let gw: NsChild;

  /** Sends each payload from namespace b to its address, port 8766; returns the answers per send. */
  async function probe(sends: { to: string; payload: string; count?: number }[], waitMs = 1200): Promise<Answer[][]> {
    const c = net.node(net.b, `${FIX}/probe.ts`, [JSON.stringify({ port: 8766, waitMs, sends })]);
    await c.waitFor((m) => m.event === 'done', STARTUP_MS + waitMs, 'probe done');
    return sends.map((_, i) => c.messages.filter((m) => m.event === 'answer' && m.i === i) as Answer[]);
  }

  async function stats(): Promise<Record<string, number>> {
    const seen = () => gw.messages.filter((m) => m.event === 'stats');
    const n = seen().length;
    gw.send('stats');
    await gw.waitFor(() => seen().length > n, 3000, 'stats');
    return seen().pop()!.stats as Record<string, number>;
  }

  before(async () => {
    net = await createNetnsPair({ links: 2 });
    gw = net.node(net.a, `${FIX}/gateway.ts`, [JSON.stringify({ port: 8765, gatewayId: 'gw-probe', interfaces: ['csl1'], deviceAuth: 'token' })]);
    const ready = await gw.waitFor((m) => m.event === 'ready', STARTUP_MS, 'gateway ready');
    assert.deepEqual(ready.links, [{ name: 'csl1', addresses: [{ address: '10.78.0.1', netmask: '255.255.255.0' }] }]);
  });

  after(async () => {
    await net?.destroy();
  });

  test('a probe broadcast on the chosen interface is answered with that interface\'s URL', async () => {
    const [answers] = await probe([{ to: '10.78.0.255', payload: PROBE }]);
    assert.equal(answers!.length, 1);
    assert.equal(answers![0]!.from, '10.78.0.1');
    assert.deepEqual(JSON.parse(answers![0]!.text!), {
      type: 'courtside_here',
      v: 1,
      gateway_id: 'gw-probe',
      urls: ['ws://10.78.0.1:8765/'],
      board_path: '/ws/esp32/',
      auth: 'token',
    });
  });

  test('probes on an interface that was not chosen and malformed probes get no answer', async () => {
    const before = await stats();
    const answers = await probe([
      { to: '10.77.0.255', payload: PROBE },
      { to: '10.78.0.255', payload: JSON.stringify({ type: 'courtside_probe', v: 1 }) },
      { to: '10.78.0.255', payload: 'hello?' },
      { to: '10.78.0.255', payload: JSON.stringify({ type: 'courtside_here', v: 1, device_id: 'x' }) },
      { to: '10.78.0.255', payload: JSON.stringify({ type: 'courtside_probe', v: 1, device_id: 'x', pad: 'y'.repeat(600) }) },
    ]);
    assert.deepEqual(answers.map((a) => a.length), [0, 0, 0, 0, 0]);
    const s = await stats();
    assert.equal(s.malformed! - before.malformed!, 4);
    assert.equal(s.ignored! - before.ignored!, 1);
    assert.equal(s.answered, before.answered);
  });

  test('a burst of probes from one board is rate-limited', async () => {
    const [answers] = await probe([{ to: '10.78.0.1', payload: JSON.stringify({ type: 'courtside_probe', v: 1, device_id: 'flood' }), count: 20 }], 800);
    // Burst of 5 per source, less what the earlier tests used; never 20.
    assert.ok(answers!.length >= 1 && answers!.length <= 5, `answers: ${answers!.length}`);
    assert.ok((await stats()).rateLimited! >= 15);
  });

  test('mDNS on the chosen interface carries only that interface\'s address; the other is silent', async () => {
    // One at a time: Linux hands every multicast packet to all sockets on port 5353 in the
    // namespace, so a resolver joined on csl1 would let one on csl0 overhear the answers.
    const off = await net.run(net.b, [PYTHON, `${FIX}/zc_resolve.py`, '10.77.0.2', '_courtside._tcp', 'Courtside gw-probe', '1500']);
    const on = await net.run(net.b, [PYTHON, `${FIX}/zc_resolve.py`, '10.78.0.2', '_courtside._tcp', 'Courtside gw-probe', '2500']);
    assert.deepEqual(JSON.parse(on.stdout).info?.addresses, ['10.78.0.1'], on.stderr);
    assert.equal(JSON.parse(off.stdout).info, null, off.stdout);
  });

  test('a simulated board finds the gateway by mDNS alone and by UDP probe alone', async () => {
    const viaMdns = net.node(net.b, `${FIX}/board.ts`, [JSON.stringify({ timeoutMs: 4000, udp: false })]);
    const viaUdp = net.node(net.b, `${FIX}/board.ts`, [JSON.stringify({ timeoutMs: 4000, mdns: false, interface: 'csl1', deviceId: 'sim-udp' })]);
    const [m, u] = await Promise.all([
      viaMdns.waitFor((x) => x.event === 'found' || x.event === 'error', STARTUP_MS + 4000, 'mdns board'),
      viaUdp.waitFor((x) => x.event === 'found' || x.event === 'error', STARTUP_MS + 4000, 'udp board'),
    ]);
    assert.equal(m.event, 'found', JSON.stringify(m));
    assert.deepEqual({ url: m.url, via: m.via, gatewayId: m.gatewayId, boardPath: m.boardPath, auth: m.auth }, {
      url: 'ws://10.78.0.1:8765/',
      via: 'mdns',
      gatewayId: 'gw-probe',
      boardPath: '/ws/esp32/',
      auth: 'token',
    });
    assert.equal(u.event, 'found', JSON.stringify(u));
    assert.deepEqual({ url: u.url, via: u.via, gatewayId: u.gatewayId }, { url: 'ws://10.78.0.1:8765/', via: 'udp', gatewayId: 'gw-probe' });
  });

  test('a board finds nothing on an interface the gateway does not serve', async () => {
    const c = net.node(net.b, `${FIX}/board.ts`, [JSON.stringify({ timeoutMs: 1500, interface: 'csl0', mdnsFirstMs: 500, probeIntervalMs: 300 })]);
    const r = await c.waitFor((x) => x.event === 'found' || x.event === 'error', STARTUP_MS + 1500, 'board result');
    assert.equal(r.event, 'error', JSON.stringify(r));
    assert.match(String(r.message), /no Courtside gateway/);
  });
});

/**
 * `courtside serve` as shipped, in namespace a: a board in namespace b finds
 * it by mDNS alone and by the UDP probe alone and connects; a board that also
 * advertises itself over mDNS (python-zeroconf) shows up once in the
 * operator's device list, connected and seen on the LAN, each with its age.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { createNetnsPair, PYTHON, type NetnsPair, type NsChild } from '../support/netns.js';

const FIX = 'test/discovery/fixtures';
const TOKEN = 'netns-operator-token-0123';

describe('courtside serve with discovery, across namespaces', { timeout: 90_000 }, () => {
  let net: NetnsPair;
  let gw: NsChild;
  const children: NsChild[] = [];

  before(async () => {
    net = await createNetnsPair();
    const l = net.links[0]!;
    // The runner turns discovery off for every test process; this one is inside its own namespace.
    gw = net.spawn(net.a, ['env', '-u', 'COURTSIDE_DISCOVERY', process.execPath, '--import', 'tsx', 'main/cli.ts', 'serve', '--port', '8765', '--data-dir', `/tmp/courtside-netns-${process.pid}`, '--db', ':memory:', '--operator-token', TOKEN, '--mdns-interface', l.name, '--log-level', 'warn']);
    await waitForText(gw, /operator:/, 20_000);
  });
  after(async () => {
    for (const c of children) c.kill();
    gw?.kill();
    await net?.destroy();
    rmSync(`/tmp/courtside-netns-${process.pid}`, { recursive: true, force: true });
  });

  async function waitForText(c: NsChild, re: RegExp, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (re.test(c.stdoutText())) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no ${re} within ${ms} ms; stderr: ${c.stderr()}`);
  }

  for (const via of ['mdns', 'udp'] as const) {
    test(`a board finds the gateway by ${via} alone and connects`, async () => {
      const l = net.links[0]!;
      const b = net.node(net.b, `${FIX}/board-connect.ts`, [JSON.stringify({ timeoutMs: 10_000, mdns: via === 'mdns', udp: via === 'udp', interface: l.name }), `find-${via}`]);
      children.push(b);
      const found = await b.waitFor((m) => m.event === 'found', 20_000, 'found');
      assert.equal(found.via, via);
      assert.equal(found.url, `ws://${l.a}:8765/`);
      await b.waitFor((m) => m.event === 'connected', 10_000, 'connected');
    });
  }

  test('the device list merges the connected board and its mDNS record', async () => {
    const l = net.links[0]!;
    const py = net.spawn(net.b, [PYTHON, `${FIX}/zc_publish.py`, l.b, '_courtside-dev._tcp', 'racket-board-7', '80', JSON.stringify({ id: 'racket-7', fw: '1.4.2', board: 'esp32-s3' })]);
    children.push(py);
    await py.waitFor((m) => m.event === 'registered', 15_000, 'published');
    const b = net.node(net.b, `${FIX}/board-connect.ts`, [JSON.stringify({ timeoutMs: 10_000, interface: l.name }), 'racket-7']);
    children.push(b);
    await b.waitFor((m) => m.event === 'connected', 20_000, 'connected');
    let devices: Record<string, unknown>[] = [];
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      const f = net.node(net.b, `${FIX}/fetch.ts`, [`http://${l.a}:8765/api/devices`, TOKEN]);
      const r = await f.waitFor((m) => m.event === 'response', 10_000, 'response');
      devices = (r.body as { devices: Record<string, unknown>[] }).devices;
      const d = devices.find((x) => x.device_id === 'racket-7');
      if (d?.online && Array.isArray(d.mdns)) break;
      await new Promise((r2) => setTimeout(r2, 500));
    }
    const d = devices.filter((x) => x.device_id === 'racket-7');
    assert.equal(d.length, 1, JSON.stringify(devices));
    assert.equal(d[0]!.online, true);
    assert.equal(d[0]!.source, 'connected');
    const mdns = d[0]!.mdns as { service_type: string; txt: Record<string, string>; last_seen_age_ms: number }[];
    assert.equal(mdns[0]!.service_type, '_courtside-dev._tcp');
    assert.equal(mdns[0]!.txt.fw, '1.4.2');
    assert.equal(typeof mdns[0]!.last_seen_age_ms, 'number');
    assert.equal(typeof d[0]!.last_seen_age_ms, 'number');
  });

  test('operators see the interfaces and can choose them; the choice is saved', async () => {
    const l = net.links[0]!;
    const ask = async (frame: object) => {
      const c = net.node(net.b, `${FIX}/operator-request.ts`, [`ws://${l.a}:8765`, TOKEN, JSON.stringify(frame)]);
      return (await c.waitFor((m) => m.event === 'reply', 15_000, 'reply')).frame as Record<string, unknown>;
    };
    const s = await ask({ type: 'get_discovery_settings' });
    assert.equal(s.type, 'discovery_settings');
    assert.deepEqual(s.interfaces, [{ name: l.name, address: l.a, selected: true }]);
    assert.deepEqual(s.chosen, [l.name]);
    const bad = await ask({ type: 'set_discovery_interfaces', id: 1, interfaces: ['wlan9'] });
    assert.deepEqual([bad.type, bad.code, bad.message], ['error', 'NOT_FOUND', "no interface 'wlan9' on this machine"]);
    const all = await ask({ type: 'set_discovery_interfaces', interfaces: [] });
    assert.deepEqual(all.chosen, []);
    // Kept in the data folder for the next start (flags given at start still win).
    assert.deepEqual(JSON.parse(readFileSync(`/tmp/courtside-netns-${process.pid}/discovery.json`, 'utf8')), { interfaces: [] });
    // Still advertised and answering after the restart of discovery.
    const b = net.node(net.b, `${FIX}/board-connect.ts`, [JSON.stringify({ timeoutMs: 10_000, mdns: true, udp: false, interface: l.name }), 'after-change']);
    children.push(b);
    assert.equal((await b.waitFor((m) => m.event === 'found', 20_000, 'found')).via, 'mdns');
  });
});

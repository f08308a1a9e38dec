/**
 * mDNS against an independent implementation (python-zeroconf), over a veth
 * pair between two private network namespaces. The gateway runs in `a`
 * (10.77.0.1), python-zeroconf in `b` (10.77.0.2).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createNetnsPair, PYTHON, type NetnsPair, type NsChild } from '../support/netns.js';

const FIX = 'test/discovery/fixtures';
const STARTUP_MS = 12_000;
const NET_MS = 5_000;

type Device = { name: string; deviceId: string; addresses: string[]; port: number; serviceType: string; txt: Record<string, string>; interface: string };

describe('mDNS with python-zeroconf across namespaces', { timeout: 60_000 }, () => {
  let net: NetnsPair;
  let gw: NsChild;
  let pyBrowser: NsChild;
  let pyBoard: NsChild;

  before(async () => {
    net = await createNetnsPair();
    const l = net.links[0]!;
    pyBrowser = net.spawn(net.b, [PYTHON, `${FIX}/zc_browse.py`, l.b, '_courtside._tcp', '40']);
    pyBoard = net.spawn(net.b, [PYTHON, `${FIX}/zc_publish.py`, l.b, '_courtside-dev._tcp', 'racket-board-7', '80', JSON.stringify({ id: 'racket-7', fw: '1.4.2', board: 'esp32-s3', mac: 'aa:bb:cc:00:00:07' })]);
    gw = net.node(net.a, `${FIX}/gateway.ts`, [
      JSON.stringify({ port: 8765, gatewayId: 'gw-test', udpProbePort: false, interfacePollMs: 300, requeryIntervalMs: 2000 }),
    ]);
    await Promise.all([
      gw.waitFor((m) => m.event === 'ready', STARTUP_MS, 'gateway ready'),
      pyBrowser.waitFor((m) => m.event === 'browsing', STARTUP_MS, 'python browser'),
      pyBoard.waitFor((m) => m.event === 'registered', STARTUP_MS, 'python publisher'),
    ]);
  });

  after(async () => {
    await net?.destroy();
  });

  test('python-zeroconf finds our advertisement with its TXT and the link address', async () => {
    const add = await pyBrowser.waitFor((m) => m.event === 'add', NET_MS, 'python add');
    assert.equal(add.name, 'Courtside gw-test._courtside._tcp.local.');
    assert.deepEqual(add.addresses, ['10.77.0.1']);
    assert.equal(add.port, 8765);
    assert.deepEqual(add.txt, { pv: '1', path: '/ws/esp32/', auth: 'open', id: 'gw-test' });
  });

  test('our browser finds the board python-zeroconf publishes', async () => {
    const m = await gw.waitFor((x) => x.event === 'added' && (x.device as Device).serviceType === '_courtside-dev._tcp', NET_MS, 'added');
    const d = m.device as Device;
    assert.equal(d.name, 'racket-board-7');
    assert.equal(d.deviceId, 'racket-7');
    assert.deepEqual(d.addresses, ['10.77.0.2']);
    assert.equal(d.port, 80);
    assert.equal(d.txt.fw, '1.4.2');
    assert.equal(d.txt.mac, 'aa:bb:cc:00:00:07');
    assert.equal(d.interface, 'csl0');
    gw.send('devices');
    const list = await gw.waitFor((x) => x.event === 'devices', NET_MS, 'devices');
    assert.ok((list.devices as Device[]).some((x) => x.deviceId === 'racket-7'));
  });

  test('courtside discover --json lists the board and the gateway', async () => {
    const r = await net.run(net.a, [process.execPath, '--import', 'tsx', `${FIX}/discover.ts`, '--seconds', '2', '--json'], 20_000);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as Device[];
    assert.ok(list.some((d) => d.serviceType === '_courtside-dev._tcp' && d.deviceId === 'racket-7'), r.stdout);
    assert.ok(list.some((d) => d.serviceType === '_courtside._tcp' && d.txt.id === 'gw-test'), r.stdout);
  });

  test('a legacy unicast query (simple firmware resolvers) is answered by unicast', async () => {
    const r = await net.run(net.b, [PYTHON, `${FIX}/legacy_query.py`, '10.77.0.2', '_courtside._tcp.local.', 'PTR', '2']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout) as { event: string; id: number; from: string; records: { type: number; ttl: number; data: string }[] };
    assert.equal(m.event, 'reply', r.stdout + r.stderr);
    assert.equal(m.id, 4242);
    assert.equal(m.from, '10.77.0.1');
    assert.ok(m.records.some((x) => x.type === 12 && x.data === 'Courtside gw-test._courtside._tcp.local.'), r.stdout);
    assert.ok(m.records.some((x) => x.type === 1 && x.data === '10.77.0.1'), r.stdout);
    assert.ok(m.records.every((x) => x.ttl <= 10), r.stdout);
  });

  test('a board that says goodbye is removed at once', async () => {
    pyBoard.send('unregister');
    const m = await gw.waitFor((x) => x.event === 'removed', NET_MS, 'removed');
    assert.equal((m.device as Device).deviceId, 'racket-7');
    assert.equal(m.reason, 'goodbye');
  });

  test('an address change is followed: the new address is advertised', async () => {
    // Delete first: deleting a primary address also deletes its secondaries.
    await net.run(null, ['ip', '-n', net.a, 'addr', 'del', '10.77.0.1/24', 'dev', 'csl0']);
    await net.run(null, ['ip', '-n', net.a, 'addr', 'add', '10.77.0.9/24', 'brd', '+', 'dev', 'csl0']);
    await gw.waitFor((m) => m.event === 'links' && JSON.stringify(m.links).includes('10.77.0.9'), NET_MS, 'links change');
    // A fresh resolver has no cache: what it gets is what the gateway announces now.
    const deadline = Date.now() + NET_MS;
    let info: { addresses: string[] } | null = null;
    while (Date.now() < deadline) {
      const r = await net.run(net.b, [PYTHON, `${FIX}/zc_resolve.py`, '10.77.0.2', '_courtside._tcp', 'Courtside gw-test', '1500']);
      info = (JSON.parse(r.stdout.trim().split('\n').pop() || '{}') as { info?: { addresses: string[] } | null }).info ?? null;
      if (info) break;
    }
    assert.ok(info, 'resolved after the change');
    assert.deepEqual(info.addresses, ['10.77.0.9']);
  });

  test('closing the gateway sends goodbyes: python-zeroconf removes it', async () => {
    gw.send('close');
    await gw.waitFor((m) => m.event === 'closed', NET_MS, 'closed');
    const m = await pyBrowser.waitFor((x) => x.event === 'remove', 3000, 'python remove');
    assert.equal(m.name, 'Courtside gw-test._courtside._tcp.local.');
  });
});

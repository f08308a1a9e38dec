/** What the advertiser sends and when, on a fake endpoint (no sockets) and a ManualClock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ManualClock } from '../../main/gateway/clock.js';
import { silentLogger } from '../../main/gateway/log.js';
import { Advertiser, advertisementRecords, legacyAnswer } from '../../main/gateway/discovery/advertise.js';
import type { Link } from '../../main/gateway/discovery/links.js';
import type { MdnsEndpoint, MdnsPool, MdnsRecord } from '../../main/gateway/discovery/mdns-pool.js';
import { defaultHostName } from '../../main/gateway/discovery/index.js';

const link: Link = { name: 'wlan0', addresses: [{ address: '192.168.4.2', netmask: '255.255.255.0' }, { address: '192.168.4.3', netmask: '255.255.255.0' }] };
const cfg = { instanceName: 'Courtside gw-1', host: 'courtside-gw-1.local', port: 8765, txt: { pv: '1', path: '/ws/esp32/', auth: 'open', id: 'gw-1' } };

test('records carry this link\'s addresses only, with cache-flush on the unique ones', () => {
  const rs = advertisementRecords(cfg, link);
  const by = (type: string) => rs.filter((r) => r.type === type);
  assert.deepEqual(by('A').map((r) => r.data), ['192.168.4.2', '192.168.4.3']);
  assert.equal(by('AAAA').length, 0);
  assert.deepEqual(by('PTR').map((r) => [r.name, r.data, r.flush ?? false]), [
    ['_courtside._tcp.local', 'Courtside gw-1._courtside._tcp.local', false],
    ['_services._dns-sd._udp.local', '_courtside._tcp.local', false],
  ]);
  const [srv] = by('SRV');
  assert.deepEqual([srv!.name, srv!.data, srv!.flush], ['Courtside gw-1._courtside._tcp.local', { port: 8765, target: 'courtside-gw-1.local' }, true]);
  const [txt] = by('TXT');
  assert.equal(txt!.flush, true);
  assert.deepEqual((txt!.data as Buffer[]).map(String).sort(), ['auth=open', 'id=gw-1', 'path=/ws/esp32/', 'pv=1']);
  assert.equal(defaultHostName('Gym Hall #2'), 'courtside-gym-hall-2.local');
});

function fakeEndpoint() {
  const sent: { at: number; answers: MdnsRecord[]; to?: unknown; res?: unknown }[] = [];
  const registered: MdnsRecord[] = [];
  let clockRef: ManualClock | undefined;
  const ep = {
    link,
    address: '192.168.4.2',
    server: {
      register: (r: MdnsRecord[]) => registered.push(...r),
      unregister: (r: MdnsRecord[]) => r.forEach((x) => registered.splice(registered.indexOf(registered.find((y) => y.name === x.name && y.type === x.type)!), 1)),
    },
    mdns: Object.assign(new EventEmitter(), {
      respond(res: { answers: MdnsRecord[] }, to?: unknown, cb?: () => void) {
        const done = typeof to === 'function' ? (to as () => void) : cb;
        sent.push({ at: clockRef?.now() ?? 0, answers: res.answers, ...(typeof to === 'object' ? { to, res } : {}) });
        done?.();
      },
    }),
  } as unknown as MdnsEndpoint;
  return { ep, sent, registered, bind: (c: ManualClock) => (clockRef = c) };
}

test('announces on link up (0 s, 1 s, 3 s), answers from the registered records, says goodbye on close', async () => {
  const clock = new ManualClock(0);
  const f = fakeEndpoint();
  f.bind(clock);
  let hooks: { up?: (e: MdnsEndpoint) => void; down?: (e: MdnsEndpoint) => void } = {};
  const pool = { attach: (h: typeof hooks) => ((hooks = h), h.up?.(f.ep)) } as unknown as MdnsPool;
  const adv = new Advertiser(pool, { ...cfg, announceCount: 3, announceIntervalMs: 1000 }, clock, silentLogger);
  adv.start();
  assert.equal(f.registered.length, 6);
  clock.advance(10_000);
  assert.deepEqual(f.sent.map((s) => s.at), [0, 1000, 3000]);
  assert.ok(f.sent.every((s) => s.answers.every((r) => r.ttl! > 0)));

  await adv.close();
  const bye = f.sent.at(-1)!.answers;
  assert.deepEqual(bye.map((r) => r.type).sort(), ['PTR', 'PTR', 'SRV', 'TXT'], 'no A goodbye: the host name may be shared');
  assert.ok(bye.every((r) => r.ttl === 0));
  assert.equal(f.registered.length, 0, 'queries are no longer answered');
  await adv.close();
  assert.equal(f.sent.length, 4, 'close twice sends one goodbye');
});

test('a link that goes away stops its announcements', () => {
  const clock = new ManualClock(0);
  const f = fakeEndpoint();
  f.bind(clock);
  let down: ((e: MdnsEndpoint) => void) | undefined;
  const pool = { attach: (h: { up: (e: MdnsEndpoint) => void; down: (e: MdnsEndpoint) => void }) => ((down = h.down), h.up(f.ep)) } as unknown as MdnsPool;
  new Advertiser(pool, { ...cfg, announceCount: 3, announceIntervalMs: 1000 }, clock, silentLogger).start();
  down!(f.ep);
  clock.advance(10_000);
  assert.equal(f.sent.length, 1);
  assert.equal(clock.pending(), 0);
});

test('legacy unicast queries (not from port 5353) get a unicast answer: id echoed, TTL <= 10 s, no cache-flush', () => {
  const clock = new ManualClock(0);
  const f = fakeEndpoint();
  f.bind(clock);
  const pool = { attach: (h: { up: (e: MdnsEndpoint) => void }) => h.up(f.ep), accepts: () => true } as unknown as MdnsPool;
  new Advertiser(pool, { ...cfg, announceCount: 1, announceIntervalMs: 1000 }, clock, silentLogger).start();
  const mdns = f.ep.mdns as unknown as EventEmitter;
  const q = { id: 4242, type: 'query', questions: [{ name: '_courtside._tcp.local', type: 'PTR' }] };
  mdns.emit('query', q, { address: '192.168.4.50', port: 5353, family: 'IPv4', size: 40 });
  assert.equal(f.sent.length, 1, 'multicast queriers are bonjour-service\'s to answer');
  mdns.emit('query', q, { address: '192.168.4.50', port: 40123, family: 'IPv4', size: 40 });
  const last = f.sent.at(-1)!;
  assert.deepEqual(last.to, { address: '192.168.4.50', port: 40123 });
  const res = last.res as { id: number; questions: unknown[]; answers: MdnsRecord[]; additionals: MdnsRecord[] };
  assert.equal(res.id, 4242);
  assert.deepEqual(res.questions, q.questions);
  assert.deepEqual(res.answers.map((r) => r.type), ['PTR']);
  assert.deepEqual(res.additionals.map((r) => r.type).sort(), ['A', 'A', 'SRV', 'TXT']);
  assert.ok([...res.answers, ...res.additionals].every((r) => r.ttl! <= 10 && r.flush === false));
  assert.deepEqual(legacyAnswer(advertisementRecords(cfg, link), [{ name: 'nobody.local', type: 'A' }]).answers, []);
  assert.deepEqual(legacyAnswer(advertisementRecords(cfg, link), [{ name: 'COURTSIDE-GW-1.local.', type: 'A' }]).answers.map((r) => r.data), ['192.168.4.2', '192.168.4.3']);
});

/** The browse cache and its browser, fed hand-made mDNS packets; time from a ManualClock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { ManualClock } from '../../main/gateway/clock.js';
import { ServiceBrowser, ServiceCache, decodeTxt, type DiscoveredService } from '../../main/gateway/discovery/browse.js';
import type { MdnsEndpoint, MdnsPacket, MdnsPool, MdnsRecord } from '../../main/gateway/discovery/mdns-pool.js';

const TYPES = ['_courtside-dev._tcp', '_wled._tcp'];
const from = { address: '192.168.4.50', link: 'wlan0' };
const txt = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => Buffer.from(`${k}=${v}`));

function board(name: string, o: { type?: string; host?: string; ip?: string; ttl?: number; srvTtl?: number; txt?: Record<string, string>; port?: number } = {}): MdnsPacket {
  const type = o.type ?? '_courtside-dev._tcp';
  const fqdn = `${name}.${type}.local`;
  const host = o.host ?? `${name}.local`;
  const ttl = o.ttl ?? 4500;
  const answers: MdnsRecord[] = [{ name: `${type}.local`, type: 'PTR', ttl, data: fqdn }];
  const additionals: MdnsRecord[] = [
    { name: fqdn, type: 'SRV', ttl: o.srvTtl ?? 120, flush: true, data: { target: host, port: o.port ?? 80, priority: 0, weight: 0 } },
    { name: fqdn, type: 'TXT', ttl, flush: true, data: txt(o.txt ?? {}) },
  ];
  if (o.ip !== '') additionals.push({ name: host, type: 'A', ttl: 120, flush: true, data: o.ip ?? '192.168.4.50' });
  return { type: 'response', answers, additionals };
}

function record(cache: ServiceCache) {
  const log: string[] = [];
  cache.on('added', (s) => log.push(`added ${s.deviceId} ${s.addresses.join(',')}`));
  cache.on('updated', (s) => log.push(`updated ${s.deviceId} ${s.addresses.join(',')} ${JSON.stringify(s.txt)}`));
  cache.on('removed', (s, why) => log.push(`removed ${s.deviceId} ${why}`));
  return log;
}

test('TXT decoding: keys lower-cased, first one wins, bare keys are empty strings', () => {
  assert.deepEqual(decodeTxt([Buffer.from('ID=a'), Buffer.from('id=b'), Buffer.from('flag'), Buffer.from('x=1=2'), Buffer.from('')]), { id: 'a', flag: '', x: '1=2' });
});

test('a full answer adds a device; deviceId from TXT id, else the instance name', () => {
  const clock = new ManualClock(1_000_000);
  const cache = new ServiceCache(TYPES, clock);
  const log = record(cache);
  cache.ingest(board('racket-board-1', { txt: { id: 'racket-1', fw: '1.0', mac: 'aa:bb', board: 'esp32' } }), from);
  cache.ingest(board('wled-kitchen', { type: '_wled._tcp', ip: '192.168.4.60' }), from);
  cache.ingest(board('printer', { type: '_ipp._tcp' }), from);
  assert.deepEqual(log, ['added racket-1 192.168.4.50', 'added wled-kitchen 192.168.4.60']);
  const [d] = cache.devices();
  assert.deepEqual(d, {
    name: 'racket-board-1',
    fqdn: 'racket-board-1._courtside-dev._tcp.local',
    host: 'racket-board-1.local',
    addresses: ['192.168.4.50'],
    port: 80,
    serviceType: '_courtside-dev._tcp',
    txt: { id: 'racket-1', fw: '1.0', mac: 'aa:bb', board: 'esp32' },
    firstSeen: 1_000_000,
    lastSeen: 1_000_000,
    deviceId: 'racket-1',
    interface: 'wlan0',
  } satisfies DiscoveredService);
});

test('repeats refresh lastSeen silently; changes emit updated; goodbye removes', () => {
  const clock = new ManualClock();
  const cache = new ServiceCache(TYPES, clock);
  const log = record(cache);
  cache.ingest(board('r1', { txt: { fw: '1.0' } }), from);
  clock.advance(5000);
  cache.ingest(board('r1', { txt: { fw: '1.0' } }), from);
  assert.equal(cache.devices()[0]!.lastSeen - cache.devices()[0]!.firstSeen, 5000);
  cache.ingest(board('r1', { txt: { fw: '1.1' } }), from);
  cache.ingest(board('r1', { txt: { fw: '1.1' }, ip: '192.168.4.99' }), from);
  const bye = board('r1');
  for (const r of [...bye.answers!, ...bye.additionals!]) r.ttl = 0;
  cache.ingest(bye, from);
  assert.deepEqual(log, ['added r1 192.168.4.50', 'updated r1 192.168.4.50 {"fw":"1.1"}', 'updated r1 192.168.4.99 {"fw":"1.1"}', 'removed r1 goodbye']);
  assert.deepEqual(cache.devices(), []);
});

test('expiry by TTL on the injected clock, with a refresh asked for before it', () => {
  const clock = new ManualClock();
  const cache = new ServiceCache(TYPES, clock);
  const log = record(cache);
  cache.ingest(board('r1', { srvTtl: 10 }), from);
  clock.advance(7000);
  assert.deepEqual(cache.tick(), new Map(), 'nothing to ask with 30% of the TTL left');
  clock.advance(1500);
  assert.deepEqual(cache.tick().get('wlan0'), [{ name: 'r1._courtside-dev._tcp.local', type: 'SRV' }]);
  assert.deepEqual(cache.tick(), new Map(), 'asked once, not every tick');
  clock.advance(1499);
  cache.tick();
  assert.deepEqual(log, ['added r1 192.168.4.50']);
  clock.advance(1);
  cache.tick();
  assert.deepEqual(log, ['added r1 192.168.4.50', 'removed r1 expired']);
});

test('a PTR alone waits for its SRV, asking for it; the responder address stands in for a missing A', () => {
  const clock = new ManualClock();
  const cache = new ServiceCache(TYPES, clock);
  const log = record(cache);
  const full = board('r2', { ip: '' });
  cache.ingest({ answers: full.answers }, from);
  assert.deepEqual(log, []);
  assert.deepEqual(cache.tick().get('wlan0'), [
    { name: 'r2._courtside-dev._tcp.local', type: 'SRV' },
    { name: 'r2._courtside-dev._tcp.local', type: 'TXT' },
  ]);
  cache.ingest({ answers: full.additionals }, from);
  assert.deepEqual(log, ['added r2 192.168.4.50']);
  clock.advance(5000);
  assert.deepEqual(cache.tick().get('wlan0'), [{ name: 'r2.local', type: 'A' }]);
  cache.ingest({ answers: [{ name: 'r2.local', type: 'A', ttl: 120, data: '192.168.4.51' }] }, from);
  assert.deepEqual(log, ['added r2 192.168.4.50', 'updated r2 192.168.4.51 {}']);
});

test('a PTR that never resolves is dropped without events', () => {
  const clock = new ManualClock();
  const cache = new ServiceCache(TYPES, clock);
  const log = record(cache);
  cache.ingest({ answers: board('ghost').answers }, from);
  clock.advance(60_000);
  cache.tick();
  clock.advance(5000);
  assert.deepEqual(cache.tick(), new Map());
  assert.deepEqual(log, []);
});

class FakeMdns extends EventEmitter {
  queries: { questions: { name: string; type: string }[] }[] = [];
  query(q: { questions: { name: string; type: string }[] }) {
    this.queries.push(q);
  }
}

test('the browser queries every type at start, a second later, then every interval; and filters by link', () => {
  const clock = new ManualClock();
  const mdns = new FakeMdns();
  const ep = { link: { name: 'wlan0', addresses: [{ address: '192.168.4.2', netmask: '255.255.255.0' }] }, address: '192.168.4.2', mdns } as unknown as MdnsEndpoint;
  const pool = { attach: (h: { up: (e: MdnsEndpoint) => void }) => h.up(ep), accepts: (_e: MdnsEndpoint, ip: string) => ip.startsWith('192.168.4.') } as unknown as MdnsPool;
  const b = new ServiceBrowser(pool, { types: TYPES, requeryIntervalMs: 30_000, tickMs: 1000 }, clock, { error() {}, warn() {}, info() {}, debug() {} });
  const added: string[] = [];
  b.on('added', (s) => added.push(s.deviceId));
  b.start();
  const ptrQueries = () => mdns.queries.filter((q) => q.questions.every((x) => x.type === 'PTR')).length;
  assert.equal(ptrQueries(), 1);
  assert.deepEqual(mdns.queries[0]!.questions, [{ name: '_courtside-dev._tcp.local', type: 'PTR' }, { name: '_wled._tcp.local', type: 'PTR' }]);
  clock.advance(1000);
  assert.equal(ptrQueries(), 2);
  clock.advance(29_000);
  assert.equal(ptrQueries(), 3);
  clock.advance(30_000);
  assert.equal(ptrQueries(), 4);

  mdns.emit('response', board('other-net', { ip: '10.9.9.9' }), { address: '10.9.9.9' });
  mdns.emit('response', board('mine', { txt: { id: 'racket-3' } }), { address: '192.168.4.50' });
  assert.deepEqual(added, ['racket-3']);
  b.close();
  clock.advance(120_000);
  assert.equal(ptrQueries(), 4, 'no queries after close');
  assert.equal(mdns.listenerCount('response'), 0);
});

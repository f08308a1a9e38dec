/** The probe responder's decisions, without sockets: time comes from a ManualClock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../main/gateway/clock.js';
import { TokenBuckets, decideProbe, type ProbeContext } from '../../main/gateway/discovery/probe.js';
import type { Link } from '../../main/gateway/discovery/links.js';

const wlan: Link = { name: 'wlan0', addresses: [{ address: '192.168.4.2', netmask: '255.255.255.0' }] };
const eth: Link = { name: 'eth0', addresses: [{ address: '10.0.0.5', netmask: '255.255.0.0' }, { address: '10.1.0.5', netmask: '255.255.0.0' }] };
const probe = (id = 'racket-1') => Buffer.from(JSON.stringify({ type: 'courtside_probe', v: 1, device_id: id }));

function ctx(clock: ManualClock, over: Partial<ProbeContext> = {}): ProbeContext {
  return { gatewayId: 'gw', port: 8765, boardPath: '/ws/esp32/', auth: 'open', links: () => [wlan, eth], explicit: false, buckets: new TokenBuckets(clock, 5, 1), ...over };
}

test('the answer names the address on the link the sender is on', () => {
  const c = ctx(new ManualClock());
  const a = decideProbe(probe(), { address: '192.168.4.77', port: 40000 }, c);
  assert.equal(a.kind, 'answer');
  if (a.kind === 'answer') {
    assert.deepEqual(a.frame.urls, ['ws://192.168.4.2:8765/']);
    assert.equal(a.deviceId, 'racket-1');
  }
  const b = decideProbe(probe(), { address: '10.1.9.9', port: 40000 }, c);
  // The matching address first, the link's others after it.
  assert.deepEqual(b.kind === 'answer' && b.frame.urls, ['ws://10.1.0.5:8765/', 'ws://10.0.0.5:8765/']);
});

test('a sender on no local subnet: routed when all interfaces are in use, ignored when some were chosen', () => {
  const clock = new ManualClock();
  assert.equal(decideProbe(probe(), { address: '172.16.0.9', port: 1 }, ctx(clock)).kind, 'route');
  assert.equal(decideProbe(probe(), { address: '172.16.0.9', port: 1 }, ctx(clock, { explicit: true, links: () => [wlan] })).kind, 'ignored');
  assert.equal(decideProbe(probe(), { address: '10.0.3.3', port: 1 }, ctx(clock, { explicit: true, links: () => [wlan] })).kind, 'ignored');
  assert.equal(decideProbe(probe(), { address: '0.0.0.0', port: 68 }, ctx(clock)).kind, 'ignored');
});

test('malformed datagrams are reported, never answered', () => {
  const c = ctx(new ManualClock());
  const from = { address: '192.168.4.77', port: 40000 };
  for (const bad of [Buffer.from('hi'), Buffer.from('{"type":"courtside_probe","v":1}'), Buffer.from(JSON.stringify({ type: 'courtside_probe', v: 1, device_id: 'a', pad: 'x'.repeat(520) })), Buffer.from([0xff, 0xfe, 0x00])]) {
    assert.equal(decideProbe(bad, from, c).kind, 'malformed');
  }
  // Malformed ones do not spend the sender's tokens.
  for (let i = 0; i < 5; i++) assert.equal(decideProbe(probe(), from, c).kind, 'answer');
});

test('token bucket per source: burst, then the sustained rate, on the injected clock', () => {
  const clock = new ManualClock();
  const c = ctx(clock);
  const a = { address: '192.168.4.77', port: 1 };
  const b = { address: '192.168.4.78', port: 1 };
  const kinds = () => decideProbe(probe(), a, c).kind;
  assert.deepEqual(Array.from({ length: 7 }, kinds), ['answer', 'answer', 'answer', 'answer', 'answer', 'rate-limited', 'rate-limited']);
  assert.equal(decideProbe(probe(), b, c).kind, 'answer', 'another board is not affected');
  clock.advance(999);
  assert.equal(kinds(), 'rate-limited');
  clock.advance(1);
  assert.equal(kinds(), 'answer');
  assert.equal(kinds(), 'rate-limited');
  clock.advance(60_000);
  assert.deepEqual(Array.from({ length: 6 }, kinds), ['answer', 'answer', 'answer', 'answer', 'answer', 'rate-limited']);
});

test('token buckets forget the longest-idle source when full', () => {
  const clock = new ManualClock();
  const tb = new TokenBuckets(clock, 1, 1, 3);
  assert.ok(tb.take('a'));
  assert.ok(tb.take('b'));
  assert.ok(tb.take('c'));
  assert.equal(tb.take('a'), false);
  assert.ok(tb.take('d'));
  assert.equal(tb.size, 3);
  // 'b' was the longest idle and was forgotten, so it starts with a full bucket again.
  assert.ok(tb.take('b'));
  assert.equal(tb.take('a'), false, 'a was touched most recently before d, and is still limited');
});

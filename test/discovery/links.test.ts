/** Interface selection and change detection, on a fake interface list and a ManualClock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type os from 'node:os';
import { ManualClock } from '../../main/gateway/clock.js';
import { LinkWatcher, broadcastAddress, inSubnet, selectLinks, unmatchedSpec, type LinkChange } from '../../main/gateway/discovery/links.js';

type Info = os.NetworkInterfaceInfo;
const v4 = (address: string, netmask = '255.255.255.0', internal = false): Info => ({ address, netmask, family: 'IPv4', mac: '02:00:00:00:00:01', internal, cidr: null });
const v6 = (address: string): Info => ({ address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: null, scopeid: 0 });

let table: NodeJS.Dict<Info[]> = {};
const list = () => table;

test('default: every non-internal IPv4 address, grouped per interface', () => {
  table = { lo: [v4('127.0.0.1', '255.0.0.0', true)], wlan0: [v4('192.168.4.2'), v6('fe80::1')], eth0: [v4('10.0.0.5', '255.255.0.0'), v4('10.1.0.5', '255.255.0.0')] };
  assert.deepEqual(selectLinks([], list), [
    { name: 'wlan0', addresses: [{ address: '192.168.4.2', netmask: '255.255.255.0' }] },
    { name: 'eth0', addresses: [{ address: '10.0.0.5', netmask: '255.255.0.0' }, { address: '10.1.0.5', netmask: '255.255.0.0' }] },
  ]);
});

test('by name or by address; unknown entries select nothing and are reported', () => {
  table = { wlan0: [v4('192.168.4.2')], eth0: [v4('10.0.0.5', '255.255.0.0'), v4('10.1.0.5', '255.255.0.0')] };
  assert.deepEqual(selectLinks(['wlan0'], list).map((l) => l.name), ['wlan0']);
  assert.deepEqual(selectLinks(['10.1.0.5'], list), [{ name: 'eth0', addresses: [{ address: '10.1.0.5', netmask: '255.255.0.0' }] }]);
  assert.deepEqual(selectLinks(['wlan9'], list), []);
  assert.deepEqual(unmatchedSpec(['wlan0', 'wlan9', '10.1.0.5', '10.9.9.9'], list), ['wlan9', '10.9.9.9']);
});

test('subnet math', () => {
  const a = { address: '192.168.4.2', netmask: '255.255.255.0' };
  assert.ok(inSubnet('192.168.4.200', a));
  assert.ok(!inSubnet('192.168.5.2', a));
  assert.ok(!inSubnet('nonsense', a));
  assert.equal(broadcastAddress(a), '192.168.4.255');
  assert.equal(broadcastAddress({ address: '10.1.2.3', netmask: '255.255.0.0' }), '10.1.255.255');
  assert.equal(broadcastAddress({ address: '10.1.2.3', netmask: '255.255.255.255' }), '255.255.255.255');
});

test('the watcher polls on the injected clock and reports added and removed links', () => {
  const clock = new ManualClock();
  table = { wlan0: [v4('192.168.4.2')] };
  const w = new LinkWatcher({ spec: ['wlan0', 'eth0'], clock, pollMs: 3000, list });
  const changes: LinkChange[] = [];
  w.on('change', (c) => changes.push(c));
  w.start();
  assert.ok(w.explicit);
  clock.advance(3000);
  assert.equal(changes.length, 0, 'no change, no event');

  table = { wlan0: [v4('192.168.7.9')], eth0: [v4('10.0.0.5')] };
  clock.advance(2999);
  assert.equal(changes.length, 0);
  clock.advance(1);
  assert.equal(changes.length, 1);
  assert.deepEqual(changes[0]!.added.map((l) => `${l.name} ${l.addresses[0]!.address}`), ['wlan0 192.168.7.9', 'eth0 10.0.0.5']);
  assert.deepEqual(changes[0]!.removed.map((l) => `${l.name} ${l.addresses[0]!.address}`), ['wlan0 192.168.4.2']);

  table = { eth0: [v4('10.0.0.5')] };
  clock.advance(3000);
  assert.deepEqual(changes[1]!.removed.map((l) => l.name), ['wlan0']);
  assert.deepEqual(w.current().map((l) => l.name), ['eth0']);

  w.stop();
  table = {};
  clock.advance(10_000);
  assert.equal(changes.length, 2, 'stopped watchers do not poll');
  assert.equal(clock.pending(), 0);
});

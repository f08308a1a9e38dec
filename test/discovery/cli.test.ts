/** `courtside discover` argument handling and output; no network (bad flags fail before any socket). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverCommand, formatTable, parseDiscoverArgs, toJson, type DiscoverIo } from '../../main/gateway/discovery/cli.js';
import type { DiscoveredService } from '../../main/gateway/discovery/browse.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const x: DiscoverIo = { out: (t) => out.push(t), err: (l) => err.push(l), wait: async () => {} };
  return { x, out, err };
}

test('a bad flag: one line on stderr, exit code 2', async () => {
  for (const argv of [['--bogus'], ['--seconds'], ['--seconds', 'soon'], ['--seconds=-1'], ['--interface'], ['--json', 'extra']]) {
    const t = io();
    assert.equal(await discoverCommand(argv, t.x), 2, argv.join(' '));
    assert.equal(t.err.length, 1, argv.join(' '));
    assert.equal(t.err[0]!.split('\n').length, 1);
    assert.match(t.err[0]!, /^courtside discover: /);
    assert.deepEqual(t.out, []);
  }
});

test('--help prints usage and exits 0', async () => {
  const t = io();
  assert.equal(await discoverCommand(['--help'], t.x), 0);
  assert.match(t.out.join(''), /usage: courtside discover/);
});

test('flags parse in both spellings and --interface repeats', () => {
  assert.deepEqual(parseDiscoverArgs(['--seconds=1.5', '--json', '--interface', 'wlan0', '--interface=10.0.0.5']), {
    seconds: 1.5,
    json: true,
    interfaces: ['wlan0', '10.0.0.5'],
    verbose: false,
    help: false,
  });
});

test('table and JSON output', () => {
  const s: DiscoveredService = {
    name: 'racket-board-7', fqdn: 'racket-board-7._courtside-dev._tcp.local', host: 'racket-board-7.local', addresses: ['192.168.4.50'],
    port: 80, serviceType: '_courtside-dev._tcp', txt: { id: 'racket-7', fw: '1.4.2' }, firstSeen: 0, lastSeen: 1000, deviceId: 'racket-7', interface: 'wlan0',
  };
  const table = formatTable([s]).split('\n');
  assert.match(table[0]!, /^TYPE\s+NAME\s+DEVICE ID\s+ADDRESS\s+PORT\s+INTERFACE\s+TXT$/);
  assert.match(table[1]!, /^_courtside-dev._tcp\s+racket-board-7\s+racket-7\s+192\.168\.4\.50\s+80\s+wlan0\s+fw=1\.4\.2$/);
  assert.equal(formatTable([]), 'Nothing found.\n');
  const json = JSON.parse(toJson([s])) as Record<string, unknown>[];
  assert.equal(json[0]!.lastSeen, '1970-01-01T00:00:01.000Z');
  assert.equal(json[0]!.deviceId, 'racket-7');
});

/** `courtside discover` argument handling and output; no network (bad flags fail before any socket). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverCommand, formatTable, parseDiscoverArgs, toJson } from '../../main/gateway/discovery/cli.js';
import type { DiscoveredService } from '../../main/gateway/discovery/browse.js';
import { captureIO } from '../support/cli.js';

test('a bad flag: one line on stderr, exit code 2', async () => {
  for (const argv of [['--bogus'], ['--seconds'], ['--seconds', 'soon'], ['--seconds=-1'], ['--interface'], ['--interface='], ['--json', 'extra']]) {
    const t = captureIO();
    assert.equal(await discoverCommand(argv, t.io), 2, argv.join(' '));
    const err = t.stderr();
    assert.equal(err.split('\n').length, 2, argv.join(' '));
    assert.ok(err.endsWith('\n'));
    assert.match(err, /^courtside discover: .* \(see --help\)\n$/);
    assert.equal(t.stdout(), '');
  }
});

test('a mistyped flag gets the nearest one suggested', async () => {
  const t = captureIO();
  assert.equal(await discoverCommand(['--secnods', '2'], t.io), 2);
  assert.equal(t.stderr(), 'courtside discover: unknown option --secnods (did you mean --seconds?)\n');
});

test('--help prints usage and exits 0', async () => {
  const t = captureIO();
  assert.equal(await discoverCommand(['--help'], t.io), 0);
  assert.match(t.stdout(), /usage: courtside discover/);
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
  const gw: DiscoveredService = { ...s, name: 'Courtside 7f3a9c1e', serviceType: '_courtside._tcp', deviceId: '7f3a9c1e', txt: { id: '7f3a9c1e' }, port: 8765 };
  const table = formatTable([s, gw]).split('\n');
  // Gateways are listed too, so the id column is not called DEVICE ID; KIND tells them apart.
  assert.match(table[0]!, /^KIND\s+SERVICE TYPE\s+NAME\s+ID\s+ADDRESS\s+PORT\s+INTERFACE\s+TXT$/);
  assert.match(table[1]!, /^board\s+_courtside-dev._tcp\s+racket-board-7\s+racket-7\s+192\.168\.4\.50\s+80\s+wlan0\s+fw=1\.4\.2$/);
  assert.match(table[2]!, /^gateway\s+_courtside._tcp\s+Courtside 7f3a9c1e\s+7f3a9c1e\s+192\.168\.4\.50\s+8765\s+wlan0$/);
  assert.equal(formatTable([]), 'Nothing found.\n');
  const json = JSON.parse(toJson([s])) as Record<string, unknown>[];
  assert.equal(json[0]!.lastSeen, '1970-01-01T00:00:01.000Z');
  assert.equal(json[0]!.deviceId, 'racket-7');
});

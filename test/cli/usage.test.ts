/**
 * Every `courtside` command, in this process through the dispatcher: a
 * mistyped flag is one line naming the nearest real flag, an unknown one
 * points at --help, and both exit 2 before the command touches anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS } from '../../main/cli/courtside.js';
import { runInProcess } from '../support/cli.js';

// [command, prefix of its error lines (always the command's name), argv with a typo, the typo, the flag it meant]
const typos: [string, string, string[], string, string][] = [
  ['serve', 'courtside serve', ['--prot', '8765'], '--prot', '--port'],
  ['simulate', 'courtside simulate', ['--devcies', '3'], '--devcies', '--devices'],
  ['analyze', 'courtside analyze', ['rec.csv', '--jsno'], '--jsno', '--json'],
  ['export', 'courtside export', ['--sesion', 's-1', '--out', 'x.zip'], '--sesion', '--session'],
  ['import', 'courtside import', ['--form', 'mysql://u:p@127.0.0.1:1/x'], '--form', '--from'],
  ['discover', 'courtside discover', ['--secnods', '1'], '--secnods', '--seconds'],
  ['nvs', 'courtside nvs', ['generate', 'in.csv', 'out.bin', '0x3000', '--outdri', 'x'], '--outdri', '--outdir'],
  ['ports', 'courtside ports', ['--jsno'], '--jsno', '--json'],
  ['flash', 'courtside flash', ['--port', '/dev/ttyUSB9', '--eraes', 'fw.bin'], '--eraes', '--erase'],
  ['provision', 'courtside provision', ['--port', '/dev/ttyUSB9', '--ssdi', 'Court-5'], '--ssdi', '--ssid'],
  ['monitor', 'courtside monitor', ['--port', '/dev/ttyUSB9', '--plian'], '--plian', '--plain'],
  ['bulk', 'courtside bulk', ['--firmwre', 'fw.bin'], '--firmwre', '--firmware'],
  ['sessions', 'courtside sessions', ['list', '--jsno'], '--jsno', '--json'],
  ['improv', 'courtside improv', ['--port', '/dev/ttyUSB9', '--passwrod', 'x', 'wifi'], '--passwrod', '--password'],
];

test('the table covers every command', () => {
  assert.deepEqual(typos.map(([c]) => c).sort(), Object.keys(COMMANDS).sort());
});

for (const [command, prefix, argv, typo, meant] of typos) {
  test(`${command}: a mistyped flag suggests ${meant}, exit 2`, async () => {
    const r = await runInProcess([command, ...argv]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `${prefix}: unknown option ${typo} (did you mean ${meant}?)\n`);
  });

  test(`${command}: an unknown flag is one line pointing at --help, exit 2`, async () => {
    const r = await runInProcess([command, ...(command === 'nvs' ? ['generate'] : []), '--frobnicate']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `${prefix}: unknown option --frobnicate (see --help)\n`);
  });

  test(`${command}: --help prints its usage and exits 0`, async () => {
    const r = await runInProcess([command, '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^usage: courtside ${command}\\b`, 'i'));
    assert.ok(r.stdout.endsWith('\n'));
    assert.equal(r.stderr, '');
  });
}

test('a flag that needs a value, a value on a switch, a bad number: one line, exit 2', async () => {
  const cases: [string[], string][] = [
    [['monitor', '--port'], 'courtside monitor: option --port needs a value\n'],
    [['ports', '--json=yes'], 'courtside ports: option --json takes no value\n'],
    [['analyze', 'rec.csv', '--lever-arm', '0'], "courtside analyze: --lever-arm must be a number above 0 up to 3, got '0' (see --help)\n"],
    [['monitor', '--port', 'p', '--reset', 'bootlaoder'], "courtside monitor: --reset must be one of run, bootloader, got 'bootlaoder' (did you mean bootloader?)\n"],
    [['nvs', 'generat'], "courtside nvs: unknown command 'generat'; did you mean generate? only 'generate' is supported (see courtside nvs --help)\n"],
  ];
  for (const [argv, line] of cases) {
    const r = await runInProcess(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.equal(r.stderr, line, argv.join(' '));
  }
});

test('an unknown command: a suggestion when one is close, the help otherwise', async () => {
  const near = await runInProcess(['simulat']);
  assert.deepEqual([near.code, near.stderr], [2, "courtside: unknown command 'simulat' (did you mean simulate?)\n"]);
  const far = await runInProcess(['frobnicate']);
  assert.deepEqual([far.code, far.stderr], [2, "courtside: unknown command 'frobnicate' (see courtside --help)\n"]);
  const proto = await runInProcess(['constructor']);
  assert.equal(proto.code, 2, 'names on Object.prototype are not commands');
});

test('OTA flags: a bad failure list is one line and exit 2', async () => {
  const sim = await runInProcess(['simulate', '--ota-fail', 'explode']);
  assert.equal(sim.code, 2, sim.stderr);
  assert.equal(sim.stderr, "courtside simulate: --ota-fail: 'explode' is not download, verify, rollback, refuse or <board>=<one of those> (see --help)\n");
  const serve = await runInProcess(['serve', '--demo', '3', '--demo-ota-fail', 'racket-3=melt']);
  assert.equal(serve.code, 2, serve.stderr);
  assert.match(serve.stderr, /^courtside serve: --demo-ota-fail: 'racket-3=melt' is not download, verify, rollback, refuse or <board>=<one of those>/);
  assert.equal(serve.stderr.split('\n').length, 2, 'one line');
  const port = await runInProcess(['serve', '--ota-port', '70000']);
  assert.equal(port.code, 2, port.stderr);
  assert.match(port.stderr, /^courtside serve: --ota-port /);
});

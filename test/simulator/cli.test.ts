import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { simulateCommand } from '../../main/simulator/cli.js';
import { captureIO } from '../support/cli.js';
import { FakeGateway } from './fake-gateway.js';

/** The command in this process; its output as lines. */
function capture() {
  const c = captureIO();
  const split = (s: string) => (s === '' ? [] : s.replace(/\n$/, '').split('\n'));
  return { ...c, lines: { get out() { return split(c.stdout()); }, get err() { return split(c.stderr()); } } };
}

const bad: [string[], RegExp][] = [
  [['--frobnicate'], /unknown option --frobnicate/],
  [['--devices'], /option --devices needs a value/],
  [['--devices', '0'], /--devices must be an integer from 1 to 1000, got '0'/],
  [['--devices', '2.5'], /--devices must be an integer/],
  [['--rate', 'fast'], /--rate must be a number/],
  [['--rate=-5'], /--rate must be a number/],
  [['--seconds', '0'], /--seconds must be a number/],
  [['--mode', 'stream'], /--mode must be sample, batch or binary, got 'stream'/],
  [['--url', 'http://localhost:8765'], /--url must start with ws:\/\/ or wss:\/\//],
  [['--token', ''], /--token must not be empty/],
  [['extra'], /unexpected argument 'extra'/],
  [['--help=yes'], /option --help takes no value/],
];

for (const [argv, re] of bad) {
  test(`simulate ${argv.join(' ')} -> exit 2 with one line`, async () => {
    const io = capture();
    assert.equal(await simulateCommand(argv, io.io), 2);
    assert.deepEqual(io.lines.out, []);
    assert.equal(io.lines.err.length, 1);
    assert.match(io.lines.err[0]!, re);
    assert.match(io.lines.err[0]!, /^courtside simulate: .* \(see --help\)$/);
    assert.ok(io.stderr().endsWith(')\n'));
  });
}

test('simulate with a mistyped flag suggests the nearest one', async () => {
  const io = capture();
  assert.equal(await simulateCommand(['--devcies', '3'], io.io), 2);
  assert.equal(io.stderr(), 'courtside simulate: unknown option --devcies (did you mean --devices?)\n');
});

test('simulate --help prints usage and exits 0', { timeout: 15_000 }, async () => {
  const io = capture();
  assert.equal(await simulateCommand(['--help'], io.io), 0);
  assert.match(io.lines.out.join('\n'), /usage: courtside simulate/);
  assert.match(io.lines.out.join('\n'), /--mode M/);
  assert.deepEqual(io.lines.err, []);
});

test('simulate runs boards against a gateway and prints one summary line', { timeout: 15_000 }, async () => {
  const gw = await FakeGateway.start();
  try {
    const io = capture();
    const code = await simulateCommand(['--url', gw.url, '--devices', '2', '--rate', '50', '--seconds', '0.5', '--mode', 'sample', '--token', 't0k'], io.io);
    assert.equal(code, 0);
    assert.deepEqual(io.lines.err, []);
    assert.equal(io.lines.out.length, 1);
    const m = /^simulated 2 boards \(2 connected\) for [\d.]+ s at 50 Hz, sample mode: (\d+) frames sent \(0 resent\), (\d+) acked, 0 errors, 0 reconnects$/.exec(io.lines.out[0]!);
    assert.ok(m, io.lines.out[0]);
    assert.ok(Number(m[1]) >= 20, 'about 25 samples per board');
    assert.equal(m[2], m[1], 'every frame acked');
    assert.equal(gw.of('sensor_data', 'racket-2').length > 0, true);
    assert.deepEqual(gw.invalid, []);
  } finally {
    await gw.close();
  }
});

test('simulate against nothing listening reports no connection and exits 1', { timeout: 15_000 }, async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const io = capture();
  assert.equal(await simulateCommand(['--url', `ws://127.0.0.1:${port}`, '--seconds', '0.3'], io.io), 1);
  assert.match(io.lines.out[0]!, /^simulated 1 board \(0 connected\).* 0 frames sent/);
});

test('simulate: Ctrl-C ends a long run early and still prints the summary', { timeout: 15_000 }, async () => {
  const gw = await FakeGateway.start();
  try {
    const io = capture();
    const run = simulateCommand(['--url', gw.url, '--seconds', '600', '--mode', 'batch'], io.io);
    // Stopped once the board streams, so the summary has something to count.
    await gw.until(() => gw.of('batch_sensor_data', 'racket-1').length > 0, 5000, 'a first batch');
    assert.equal(io.listeners(), 1);
    io.stop('SIGINT');
    assert.equal(await run, 0);
    assert.equal(io.listeners(), 0);
    assert.match(io.lines.out[0]!, /^simulated 1 board \(1 connected\) for \d+\.\d s at 100 Hz, batch mode: [1-9]\d* frames sent/);
    assert.ok(Number(/for ([\d.]+) s/.exec(io.lines.out[0]!)![1]) < 60, 'ended long before --seconds');
  } finally {
    await gw.close();
  }
});

/**
 * One client cannot take the fleet's connection slots: a per-address cap,
 * and a deadline to identify on `/` (driven by the injected clock). The
 * attacker comes from 127.0.0.2 and 127.0.0.3 (loopback aliases, counted like
 * any LAN address); 127.0.0.1 is the machine itself and is not capped.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../main/gateway/clock.js';
import { startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';
import { runInProcess } from '../support/cli.js';

const from = (localAddress: string) => ({ localAddress });

describe('connection slots', () => {
  let gw: TestGateway;
  const clock = new ManualClock();
  const open: TestClient[] = [];

  before(async () => {
    gw = await startTestGateway({ clock, heartbeatIntervalMs: 0, maxConnectionsPerAddress: 5, identifyTimeoutMs: 10_000 });
  });
  after(async () => {
    for (const c of open) c.ws.terminate();
    await gw.stop();
  });

  test('an address past its cap gets 429 on every endpoint; other addresses and this machine are not affected', async () => {
    for (let i = 0; i < 5; i++) open.push(await TestClient.connect(`${gw.url}/ws/esp32/hog-${i}/`, from('127.0.0.2')));
    for (const path of ['/', '/ws/esp32/hog-x/', '/ws/miniprogram/p1/', `/ws/admin/?token=${gw.operatorToken}`]) {
      await assert.rejects(TestClient.connect(gw.url + path, from('127.0.0.2')), { status: 429 }, path);
    }
    // A real board on another address, and the machine itself, still connect.
    const board = await TestClient.connect(`${gw.url}/ws/esp32/real-board/`, from('127.0.0.3'));
    open.push(board);
    assert.equal((await board.next('connection_established')).device_code, 'real-board');
    for (let i = 0; i < 8; i++) open.push(await TestClient.connect(`${gw.url}/ws/esp32/local-${i}/`));
    // A slot given back is a slot to take again.
    const first = open.shift()!;
    first.ws.close();
    await first.closed;
    await waitFor(async () => {
      try {
        open.push(await TestClient.connect(`${gw.url}/ws/esp32/hog-again/`, from('127.0.0.2')));
        return true;
      } catch {
        return false;
      }
    });
  });

  test('a socket on / that never identifies is closed with 4408 when the deadline passes; one that identified stays', async () => {
    const silent = await TestClient.connect(gw.url + '/', from('127.0.0.4'));
    const talker = await TestClient.connect(gw.url + '/', from('127.0.0.4'));
    talker.send({ device_id: 'phone-1', identity: 'mobile_user' });
    assert.equal((await talker.next('room')).status, 'created_new');
    const signaler = await TestClient.connect(gw.url + '/', from('127.0.0.4'));
    signaler.send({ type: 'register', client_id: 'cam-1' });
    await signaler.next('registered');
    clock.advance(9_999);
    assert.equal(silent.ws.readyState, silent.ws.OPEN);
    clock.advance(1);
    const closed = await silent.closed;
    assert.equal(closed.code, 4408);
    assert.equal(talker.ws.readyState, talker.ws.OPEN);
    assert.equal(signaler.ws.readyState, signaler.ws.OPEN);
    talker.ws.close();
    signaler.ws.close();
  });

  test('the flood that used to work: 200 idle sockets from one address, 5 held, then boards still connect', async () => {
    const results = await Promise.allSettled(Array.from({ length: 200 }, () => TestClient.connect(gw.url + '/', from('127.0.0.5'))));
    const held = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<TestClient>).value);
    const refused = results.filter((r) => r.status === 'rejected' && (r.reason as { status?: number }).status === 429).length;
    assert.equal(held.length, 5);
    assert.equal(refused, 195);
    const board = await TestClient.connect(`${gw.url}/ws/esp32/after-flood/`, from('127.0.0.6'));
    assert.equal((await board.next('connection_established')).device_code, 'after-flood');
    // The held ones never identify: the deadline gives their slots back.
    clock.advance(10_000);
    for (const c of held) assert.equal((await c.closed).code, 4408);
    board.ws.close();
  });
});

test('serve takes the limits as flags and refuses bad values with exit code 2', async () => {
  for (const [flag, value] of [['--max-connections-per-address', '0'], ['--max-connections', 'many'], ['--identify-timeout-ms', '-5']] as const) {
    const r = await runInProcess(['serve', flag, value]);
    assert.equal(r.code, 2, `${flag} ${value}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
  }
  const help = await runInProcess(['serve', '--help']);
  assert.match(help.stdout, /--max-connections-per-address N[\s\S]*default 64/);
  assert.match(help.stdout, /--identify-timeout-ms N[\s\S]*default 10000/);
});

async function waitFor(ok: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not met in time');
}

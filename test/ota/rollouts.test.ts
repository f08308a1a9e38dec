/**
 * The rollout engine on a ManualClock with boards as plain records: waves,
 * concurrency, the timeout of a board that never comes back, pause and
 * resume, stop, a stale status before the reboot, a refused command, and an
 * offline board picked up when it connects. No sleeping: time is advanced.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../main/shared/clock.js';
import { Rollouts } from '../../main/gateway/ota/rollouts.js';
import { CourtsideError } from '../../main/gateway/errors.js';

function fleet(ids: string[], offline: string[] = []) {
  const clock = new ManualClock(0);
  const boards = new Map(ids.map((id) => [id, { online: !offline.includes(id), firmware: '1.0.0' as string | null }]));
  const sent: { id: string; commandId: string }[] = [];
  const revoked: string[] = [];
  let n = 0;
  const r = new Rollouts({
    clock,
    board: (id) => boards.get(id),
    sendCommand: async (id) => {
      const commandId = `c${++n}`;
      sent.push({ id, commandId });
      return { commandId };
    },
    grant: (id) => ({ url: `http://gw/${id}`, token: `t-${id}` }),
    revoke: (t) => revoked.push(t),
    publish: () => {},
  });
  /** A board reboots into `version` and reports it. */
  const reboot = (id: string, version: string) => {
    r.disconnected(id);
    boards.get(id)!.firmware = version;
    r.connected(id);
    r.status(id, { firmware: version });
  };
  return { clock, boards, sent, revoked, r, reboot };
}

const tick = () => new Promise((res) => setImmediate(res));
const states = (run: ReturnType<Rollouts['get']>) => Object.fromEntries(run.view().devices.map((d) => [d.device_id, d.state]));

describe('rollout engine', () => {
  test('canary first, then the rest at most two at a time; success only after the reboot', async () => {
    const f = fleet(['a', 'b', 'c', 'd', 'e']);
    const run = f.r.create({ firmware_id: 'x'.repeat(64), version: '2.0.0', size: 100, devices: ['a', 'b', 'c', 'd', 'e'], tag: null, explicit: true, canary_percent: 20, max_concurrent: 2 });
    await tick();
    assert.deepEqual(f.sent.map((s) => s.id), ['a'], 'the canary alone');
    // A periodic status before the reboot says nothing about the update.
    f.r.status('a', { firmware: '1.0.0' });
    assert.equal(states(run).a, 'updating');
    f.reboot('a', '2.0.0');
    await tick();
    assert.equal(run.wave, 1);
    assert.deepEqual(f.sent.map((s) => s.id), ['a', 'b', 'c']);
    f.reboot('b', '2.0.0');
    await tick();
    assert.deepEqual(f.sent.map((s) => s.id), ['a', 'b', 'c', 'd']);
    for (const id of ['c', 'd']) f.reboot(id, '2.0.0');
    await tick();
    f.reboot('e', '2.0.0');
    assert.equal(run.state, 'complete');
    assert.deepEqual(f.revoked.sort(), ['t-a', 't-b', 't-c', 't-d', 't-e']);
  });

  test('a board that never comes back fails at its timeout; pause holds new starts; stop cancels the rest', async () => {
    const f = fleet(['a', 'b', 'c']);
    const run = f.r.create({ firmware_id: 'x'.repeat(64), version: '2.0.0', size: 100, devices: ['a', 'b', 'c'], tag: null, explicit: true, canary_percent: 0, max_concurrent: 1, max_failures: 5, timeout_ms: 60_000 });
    await tick();
    f.clock.advance(59_999);
    assert.equal(states(run).a, 'updating');
    run.pause();
    f.clock.advance(1);
    assert.match(run.view().devices[0]!.error ?? '', /no new version within 60000 ms/);
    assert.equal(states(run).a, 'failed');
    await tick();
    assert.equal(f.sent.length, 1, 'paused: nothing new starts');
    run.resume();
    await tick();
    assert.deepEqual(f.sent.map((s) => s.id), ['a', 'b']);
    run.stop();
    assert.equal(run.state, 'stopped');
    assert.equal(states(run).c, 'cancelled');
    assert.throws(() => run.pause(), (e: unknown) => e instanceof CourtsideError && e.code === 'ROLLOUT_STATE');
  });

  test('a refused command fails the board; an offline board waits and is updated when it connects', async () => {
    const f = fleet(['a', 'b'], ['b']);
    const run = f.r.create({ firmware_id: 'x'.repeat(64), version: '2.0.0', size: 100, devices: ['a', 'b'], tag: null, explicit: true, canary_percent: 0, max_failures: 1 });
    await tick();
    assert.deepEqual(states(run), { a: 'updating', b: 'waiting_online' });
    f.r.commandAck('a', f.sent[0]!.commandId, false, { error: 'ota_unsupported' });
    assert.equal(states(run).a, 'failed');
    assert.match(run.view().devices[0]!.error ?? '', /ota_unsupported/);
    f.boards.get('b')!.online = true;
    f.r.connected('b');
    await tick();
    assert.equal(states(run).b, 'updating');
    f.reboot('b', '2.0.0');
    assert.equal(run.state, 'complete');
  });
});

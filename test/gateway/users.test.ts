/** The badminton protocol's mini-program endpoint: session_status and notifications, queued while the player is away. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

describe('user endpoint (the badminton protocol, mini-program)', () => {
  let gw: TestGateway;
  let op: TestClient;
  before(async () => {
    gw = await startTestGateway();
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  test('connect and ask session_status', async () => {
    const u = await TestClient.connect(`${gw.url}/ws/miniprogram/player-1/`);
    assert.equal((await u.next('connection_established')).user_id, 'player-1');
    const s = await u.ask({ type: 'session_status' }, 'session_status');
    assert.deepEqual(s, { type: 'session_status', user_id: 'player-1', session: null });
    assert.equal((await u.ask({ type: 'ping' }, 'pong')).type, 'pong');
    u.send({ type: 'session_status', session_id: 5 });
    assert.equal((await u.next('error')).message, 'session_id must be a string');
    await u.close();
  });

  test('a notification to a connected user arrives at once; to an absent one when they connect', async () => {
    const u = await TestClient.connect(`${gw.url}/ws/miniprogram/player-2/`);
    await u.next('connection_established');
    const now = await op.ask({ type: 'notify_user', user_id: 'player-2', payload: { type: 'analysis_complete_notification', session_id: 's1' } }, 'user_notified');
    assert.equal(now.delivered, true);
    assert.deepEqual(await u.next('analysis_complete_notification'), { type: 'analysis_complete_notification', session_id: 's1' });
    await u.close();

    const later = await op.ask({ type: 'notify_user', user_id: 'player-2', payload: { type: 'analysis_complete_notification', session_id: 's2' } }, 'user_notified');
    assert.deepEqual([later.delivered, later.queued], [false, true]);
    const back = await TestClient.connect(`${gw.url}/ws/miniprogram/player-2/`);
    assert.equal((await back.next('analysis_complete_notification')).session_id, 's2');
    await back.close();
    const again = await TestClient.connect(`${gw.url}/ws/miniprogram/player-2/`);
    await again.nothing('analysis_complete_notification');
    await again.close();
  });
});

/** `--device-auth token`: boards, room and signaling clients and players need their own token. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';

describe('device auth: token mode', () => {
  let gw: TestGateway;
  let op: TestClient;
  before(async () => {
    gw = await startTestGateway({ deviceAuth: 'token' });
    op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    await op.next('connection_established');
  });
  after(async () => {
    await op.close();
    await gw.stop();
  });

  const mint = async (deviceId: string) => {
    const r = await op.ask({ type: 'create_device_token', device_id: deviceId, label: 'test' }, 'device_token');
    assert.equal(r.device_id, deviceId);
    assert.match(String(r.token), /^[A-Za-z0-9_-]{32}$/);
    return String(r.token);
  };

  test('a board without a token, or with another board\'s token, is refused with 401', async () => {
    const t1 = await mint('auth-b1');
    await assert.rejects(TestClient.connect(`${gw.url}/ws/esp32/auth-b1/`), { status: 401 });
    await mint('auth-b2');
    await assert.rejects(TestClient.connect(`${gw.url}/ws/esp32/auth-b2/?token=${t1}`), { status: 401 });
    const ok = await TestClient.connect(`${gw.url}/ws/esp32/auth-b1/?token=${t1}`);
    assert.equal((await ok.next()).type, 'connection_established');
    await ok.close();
  });

  test('only hashes are stored, and a revoked token no longer admits', async () => {
    const t = await mint('auth-rev');
    const rows = await gw.store.listDeviceTokens();
    assert.ok(rows.every((r) => r.tokenHash !== t && /^[0-9a-f]{64}$/.test(r.tokenHash)));
    const list = await op.ask({ type: 'list_device_tokens' }, 'device_tokens');
    assert.ok((list.tokens as { device_id: string; token?: string }[]).some((x) => x.device_id === 'auth-rev' && x.token === undefined));
    assert.equal((await op.ask({ type: 'revoke_device_token', device_id: 'auth-rev' }, 'device_token_revoked')).revoked, 1);
    await assert.rejects(TestClient.connect(`${gw.url}/ws/esp32/auth-rev/?token=${t}`), { status: 401 });
  });

  test('room clients present the token in the identity frame or the query; without it: error and close', async () => {
    const t = await mint('auth-room');
    const bad = await TestClient.connect(gw.url + '/');
    bad.send({ device_id: 'auth-room', identity: 'u' });
    assert.equal((await bad.next('error')).code, 'UNAUTHORIZED');
    assert.equal((await bad.closed).code, 4401);

    const inFrame = await TestClient.connect(gw.url + '/');
    inFrame.send({ device_id: 'auth-room', identity: 'u', token: t });
    assert.equal((await inFrame.next('room')).status, 'created_new');
    await inFrame.close();
    const inQuery = await TestClient.connect(`${gw.url}/?token=${t}`);
    inQuery.send({ device_id: 'auth-room', identity: 'u' });
    assert.equal((await inQuery.next('room')).status, 'reconnected');
    await inQuery.close();
  });

  test('signaling clients and players need theirs too (players as user:<id>)', async () => {
    const sig = await TestClient.connect(gw.url + '/');
    sig.send({ type: 'register', client_id: 'auth-sig' });
    assert.equal((await sig.next('error')).code, 'UNAUTHORIZED');
    const t = await mint('auth-sig');
    const sig2 = await TestClient.connect(gw.url + '/');
    assert.equal((await sig2.ask({ type: 'register', client_id: 'auth-sig', token: t })).type, 'registered');
    await sig2.close();

    await assert.rejects(TestClient.connect(`${gw.url}/ws/miniprogram/p1/`), { status: 401 });
    const ut = await mint('user:p1');
    const u = await TestClient.connect(`${gw.url}/ws/miniprogram/p1/?token=${ut}`);
    assert.equal((await u.next()).type, 'connection_established');
    await u.close();
  });

  test('HTTP: POST /api/device-tokens mints, DELETE revokes', async () => {
    const r = await gw.http('/api/device-tokens', { method: 'POST', body: JSON.stringify({ device_id: 'http-dev', label: 'bench' }) });
    assert.equal(r.status, 201);
    const { token } = (await r.json()) as { token: string };
    const b = await TestClient.connect(`${gw.url}/ws/esp32/http-dev/?token=${token}`);
    await b.close();
    assert.equal((await gw.http('/api/device-tokens', { method: 'POST', body: '{}' })).status, 400);
    assert.equal((await gw.http('/api/device-tokens/http-dev', { method: 'DELETE' })).status, 200);
    assert.equal((await gw.http('/api/device-tokens/http-dev', { method: 'DELETE' })).status, 404);
  });
});

describe('device auth: open mode (the default)', () => {
  test('boards and room clients are admitted without tokens', async () => {
    const gw = await startTestGateway();
    try {
      const b = await TestClient.connect(`${gw.url}/ws/esp32/anyone/`);
      assert.equal((await b.next()).type, 'connection_established');
      await b.close();
      const c = await TestClient.connect(gw.url + '/');
      c.send({ device_id: 'anyone', identity: 'u' });
      assert.equal((await c.next('room')).status, 'created_new');
      await c.close();
    } finally {
      await gw.stop();
    }
  });
});

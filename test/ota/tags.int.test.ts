/**
 * Board tags: set over HTTP and the operator socket, refused when malformed,
 * shown in the device list, kept in the store across a restart, and used as
 * targets: a command to every board with a tag (the boards' own acks are the
 * truth), a session of the tagged boards, a rollout by tag.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OPERATOR_TOKEN, startTestGateway, TestClient, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { VirtualBoard } from '../../main/simulator/board.js';

describe('board tags', () => {
  const dir = mkdtempSync(join(tmpdir(), 'courtside-tags-'));
  const opts = { dataDir: dir, db: join(dir, 'courtside.sqlite') };
  let gw: TestGateway;
  const boards: VirtualBoard[] = [];
  const commands = new Map<string, string[]>();
  before(async () => {
    gw = await startTestGateway(opts);
    for (const id of ['t-1', 't-2', 't-3']) {
      const b = new VirtualBoard({ url: gw.url, deviceCode: id, heartbeatIntervalMs: 60_000 });
      b.on('command', (c) => commands.set(id, [...(commands.get(id) ?? []), c.command]));
      boards.push(b);
    }
    await Promise.all(boards.map((b) => b.start()));
  });
  after(async () => {
    await Promise.all(boards.map((b) => b.stop()));
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('set, refuse, list, and keep across a restart', async () => {
    const put = (id: string, tags: unknown) => gw.http(`/api/devices/${id}/tags`, { method: 'PUT', body: JSON.stringify({ tags }) });
    assert.equal((await put('t-1', ['court-1', 'juniors'])).status, 200);
    const op = await TestClient.connect(`${gw.url}/ws/admin/?token=${OPERATOR_TOKEN}`);
    const r = await op.ask({ type: 'set_device_tags', id: 1, device_id: 't-2', tags: ['court-1', 'court-1'] }, 'device_tags');
    assert.deepEqual(r.tags, ['court-1']);
    op.ws.close();
    const bad = await put('t-3', ['court 1']);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'BAD_REQUEST');
    // A board not seen yet can be tagged ahead (provisioning does this).
    assert.equal((await put('t-later', ['court-2'])).status, 200);
    const list = ((await (await gw.http('/api/tags')).json()) as { devices: { device_id: string; tags: string[] }[] }).devices;
    assert.deepEqual(list, [{ device_id: 't-1', tags: ['court-1', 'juniors'] }, { device_id: 't-2', tags: ['court-1'] }, { device_id: 't-later', tags: ['court-2'] }]);
    const dev = (await (await gw.http('/api/devices/t-1')).json()) as { tags?: string[] };
    assert.deepEqual(dev.tags, ['court-1', 'juniors']);

    await Promise.all(boards.map((b) => b.stop()));
    await gw.close();
    // The same port, so the boards find it again.
    gw = await startTestGateway({ ...opts, port: gw.port });
    const again = ((await (await gw.http('/api/tags')).json()) as { devices: unknown[] }).devices;
    assert.deepEqual(again, list);
    await Promise.all(boards.map((b) => b.start()));
    await waitFor(() => gw.core.boards.onlineCount() === 3, { what: 'boards back' });
  });

  test('a command to a tag reaches exactly the tagged boards', async () => {
    const res = await gw.http('/api/tags/court-1/command', { method: 'POST', body: JSON.stringify({ command: 'status' }) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { commands: { device_id: string }[] };
    assert.deepEqual(body.commands.map((c) => c.device_id), ['t-1', 't-2']);
    await waitFor(() => commands.get('t-1')?.includes('status') && commands.get('t-2')?.includes('status'), { what: 'acks' });
    assert.ok(!(commands.get('t-3') ?? []).includes('status'));
  });

  test('a session of the boards with a tag', async () => {
    const res = await gw.http('/api/sessions', { method: 'POST', body: JSON.stringify({ tag: 'juniors' }) });
    assert.equal(res.status, 201);
    const s = ((await res.json()) as { session: { boards: { device_id: string }[] | string[] } }).session;
    const ids = (s.boards as unknown[]).map((b) => (typeof b === 'string' ? b : (b as { device_id: string }).device_id));
    assert.deepEqual(ids, ['t-1']);
    const none = await gw.http('/api/sessions', { method: 'POST', body: JSON.stringify({ tag: 'nobody' }) });
    assert.equal(none.status, 400);
    const both = await gw.http('/api/sessions', { method: 'POST', body: JSON.stringify({ tag: 'juniors', boards: ['t-2'] }) });
    assert.equal(both.status, 400);
    // A tag on more boards than a session takes is refused whole, never cut to the first 64.
    for (let i = 1; i <= 65; i++) await gw.core.boards.setTags(`hall-${String(i).padStart(2, '0')}`, ['hall']);
    const many = await gw.http('/api/sessions', { method: 'POST', body: JSON.stringify({ tag: 'hall' }) });
    assert.equal(many.status, 400);
    assert.match(((await many.json()) as { error: { message: string } }).error.message, /on 65 boards; a session takes at most 64/);
  });
});

/**
 * The rollout timeline for a fleet of 20 virtual boards on a real gateway:
 * a 1 MB image, a 10 % canary wave, five at a time, two boards that fail
 * (one download, one rollback) under max_failures 2. Prints when each wave
 * started and when each board finished, from the rollout's own record.
 * Run: node --import tsx test/bench/ota-rollout.ts
 */
import { startTestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { buildAppImage } from '../support/app-image.js';
import { VirtualBoard } from '../../main/simulator/board.js';
import type { Rollout } from '../../firmware-protocol/index.js';

const gw = await startTestGateway();
const boards: VirtualBoard[] = [];
for (let i = 1; i <= 20; i++) {
  const fail = i === 7 ? 'download' : i === 13 ? 'rollback' : undefined;
  boards.push(new VirtualBoard({ url: gw.url, deviceCode: `racket-${String(i).padStart(2, '0')}`, ota: { fail, rebootMs: 200 }, reconnectMinMs: 200, heartbeatIntervalMs: 60_000 }));
}
await Promise.all(boards.map((b) => b.start()));
await waitFor(() => gw.core.boards.list().filter((d) => d.status?.firmware === '1.2.0').length === 20, { what: 'statuses' });
const image = buildAppImage({ version: '2.0.0', codeSize: 1024 * 1024 });
const up = await gw.http('/api/firmware', { method: 'POST', body: image });
const fw = ((await up.json()) as { firmware: { firmware_id: string } }).firmware;
const t0 = Date.now();
const res = await gw.http('/api/ota/rollouts', { method: 'POST', body: JSON.stringify({ firmware_id: fw.firmware_id, tag: undefined, devices: boards.map((b) => b.deviceCode), canary_percent: 10, max_concurrent: 5, max_failures: 2 }) });
const id = ((await res.json()) as { rollout: Rollout }).rollout.rollout_id;
const r = await waitFor(async () => {
  const x = ((await (await gw.http(`/api/ota/rollouts/${id}`)).json()) as { rollout: Rollout }).rollout;
  return x.state === 'complete' || x.state === 'stopped' ? x : null;
}, { timeoutMs: 120_000, what: 'rollout end' });
const ms = (iso: string | null) => (iso === null ? '-' : String(Date.parse(iso) - t0));
console.log(`rollout ${r.state} in ${Date.now() - t0} ms; image ${image.length} bytes; counts ${JSON.stringify(r.counts)}`);
for (const w of r.waves) console.log(`wave ${w.wave}: ${w.devices.length} boards, started at +${ms(w.started_at)} ms`);
for (const d of [...r.devices].sort((a, b) => (a.finished_at ?? '').localeCompare(b.finished_at ?? ''))) {
  console.log(`${d.device_id} wave ${d.wave} ${d.state.padEnd(11)} start +${ms(d.started_at)} end +${ms(d.finished_at)}${d.error ? ` (${d.error.slice(0, 50)})` : ''}`);
}
await Promise.all(boards.map((b) => b.stop()));
await gw.stop();

/**
 * `/api/health`, answered within a second whatever the database does: the
 * probe has a deadline, and a store whose calls are late (a frozen disk, a
 * stalled MariaDB) is `degraded` with the reason, even if the probe, a read,
 * still gets through.
 */
import type { ServerResponse } from 'node:http';
import type { Core } from './core.js';
import { sendJson } from './dispatch.js';
import type { StoreWatch } from './store-watch.js';
import { VERSION } from './version.js';

/** How long the database probe may take before health answers without it. */
export const HEALTH_PROBE_MS = 500;

export async function sendHealth(core: Core, watch: StoreWatch | null, res: ServerResponse): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  // A real timer: the deadline is for the client waiting on a socket, not gateway logic a test drives.
  const deadline = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), HEALTH_PROBE_MS)));
  let db = 'ok';
  let reason: string | null = null;
  try {
    const r = await Promise.race([core.store.roomExists('HEALTH').then(() => 'ok' as const), deadline]);
    if (r === 'timeout') {
      db = 'unavailable';
      reason = `database did not answer within ${HEALTH_PROBE_MS} ms`;
    }
  } catch {
    db = 'unavailable';
    reason = 'database probe failed';
  } finally {
    clearTimeout(timer);
  }
  const late = watch?.lateReason() ?? null;
  if (db === 'ok' && late !== null) db = 'late';
  reason = late ?? reason;
  const ok = db === 'ok';
  // Redis lost: the gateway still serves its own clients (200), only the fleet is cut off.
  const redisDown = core.fleet ? core.fleet.bus.downReason : null;
  sendJson(res, ok ? 200 : 503, {
    status: ok && redisDown === null ? 'ok' : 'degraded',
    version: VERSION,
    database: db,
    ...(core.fleet ? { redis: redisDown === null ? 'ok' : 'unavailable', gateway_id: core.fleet.gatewayId } : {}),
    ...(reason === null && redisDown === null ? {} : { reason: reason ?? `redis: ${redisDown}` }),
    store_calls_in_flight: watch?.pending ?? 0,
    uptime_s: Math.round((Date.now() - core.metrics.startedAt) / 1000),
  });
}

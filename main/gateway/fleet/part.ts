/**
 * The fleet as a gateway part: `get_fleet` (`GET /api/fleet`) for the UI's fleet view, the
 * `fleet` topic for operators (Redis lost and back, gaps), and the `fleet_gap` frame to this
 * gateway's clients when events from other gateways were lost.
 */
import { FleetOperatorFrames, type FleetGapFrame } from '../../../firmware-protocol/index.js';
import type { Core, PartFactory } from '../core.js';
import { answer, defineRequest, type GatewayPart } from '../parts.js';
import type { StoreWatch } from '../store-watch.js';
import { VERSION } from '../version.js';
import type { GatewayInfo } from './mirror.js';

/** What this gateway says of itself in its heartbeat key. */
export function fleetInfo(core: Core, watch: StoreWatch | null): GatewayInfo {
  const urls = core.urls().board;
  const redisDown = core.fleet?.bus.downReason ?? null;
  const late = watch?.lateReason() ?? null;
  const reason = redisDown ?? late;
  const address = urls[0] ? new URL(urls[0]).host : null;
  return {
    gateway_id: core.fleet?.gatewayId ?? '',
    address,
    urls,
    started_at: new Date(core.metrics.startedAt).toISOString(),
    boards: core.boards.onlineCount(),
    clients: core.rooms.connectionCount() + core.signaling.count() + core.users.count(),
    operators: core.operators.count(),
    sensor_watchers: core.fleet?.sensorWatchers() ?? 0,
    health: reason === null ? 'ok' : 'degraded',
    reason,
    version: VERSION,
  };
}

export function fleetPart(): PartFactory {
  return (core: Core): GatewayPart => {
    const fleet = core.fleet;
    if (fleet) {
      fleet.onGap = (reason, d) => {
        const frame: FleetGapFrame = { type: 'fleet_gap', reason, gateway_id: d.gatewayId ?? null, lost: d.lost ?? null, timestamp: new Date(core.clock.now()).toISOString() };
        const text = JSON.stringify(frame);
        // Room and signaling clients only when they asked (fleet_gap in the identity or register frame).
        for (const { members } of core.rooms.activeRooms()) for (const m of members) if (m.fleetGap) m.peer.sendText(text);
        core.signaling.gapNotice(text);
        core.operators.notifyAllLocal(frame);
        core.operators.publishLocal('fleet', { event: 'gap', reason, gateway_id: d.gatewayId ?? null, lost: d.lost ?? null });
      };
      fleet.onState = (up, reason) => core.operators.publishLocal('fleet', { event: up ? 'redis_up' : 'redis_down', reason });
    }
    const F = FleetOperatorFrames;
    return {
      name: 'fleet',
      requests: {
        get_fleet: defineRequest(F.get_fleet, {
          http: 'GET /fleet',
          async handle() {
            const self = { ...(fleet ? fleet.selfInfo() : fleetInfo(core, null)), self: true };
            if (!fleet) {
              return answer('fleet', { enabled: false, gateway_id: self.gateway_id, redis: 'off' as const, reason: null, gateways: [self], events: { published: 0, received: 0, dropped: 0, gaps: 0 } });
            }
            // While Redis is away the list is what was last heard.
            const others = fleet.bus.isUp ? await fleet.liveGateways().catch(() => [...fleet.mirror.gateways.values()]) : [...fleet.mirror.gateways.values()];
            const gateways = [self, ...others.filter((g) => g.gateway_id !== fleet.gatewayId).sort((a, b) => a.gateway_id.localeCompare(b.gateway_id))];
            return answer('fleet', { enabled: true, gateway_id: fleet.gatewayId, redis: fleet.bus.isUp ? ('ok' as const) : ('unavailable' as const), reason: fleet.bus.downReason, gateways, events: { ...fleet.bus.counts } });
          },
        }),
      },
    };
  };
}

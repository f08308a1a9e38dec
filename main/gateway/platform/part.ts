/**
 * getHealth() and getMetrics() over the operator socket and HTTP, at the
 * paths the Node WebSocket module's users already poll (behind the operator
 * token, as every /api route is).
 */
import { PlatformOperatorFrames } from '../../../firmware-protocol/index.js';
import type { Core, PartFactory } from '../core.js';
import { answer, defineRequest, type GatewayPart } from '../parts.js';

export function platformPart(): PartFactory {
  return (core: Core): GatewayPart => ({
    name: 'platform',
    requests: {
      get_health: defineRequest(PlatformOperatorFrames.get_health, { http: 'GET /websocket/health', handle: () => answer('health', core.platform.getHealth()) }),
      get_metrics: defineRequest(PlatformOperatorFrames.get_metrics, { http: 'GET /websocket/metrics', handle: () => answer('metrics', core.platform.getMetrics()) }),
    },
  });
}

/**
 * Discovery as a gateway part: advertise and browse once the port is known,
 * discovered services to operators (`discovery` topic, `get_discovered`,
 * `GET /api/discovery`), and the LAN view merged into the device list.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import type { ExtensionFactory, GatewayExtension } from '../extensions.js';
import type { GatewayContext } from '../context.js';
import { startDiscovery, type DiscoveredService, type Discovery } from './index.js';

export interface DiscoveryPartOptions {
  /** Interface names or IPv4 addresses; empty: every non-internal IPv4 interface. Default []. */
  interfaces?: string[];
  /** mDNS advertise and browse. Default true. */
  mdns?: boolean;
  /** UDP probe port; false turns the responder off. Default 8766. */
  udpProbePort?: number | false;
}

/** A stable id for this gateway, kept in the data folder (TXT `id`, probe answers). */
export function gatewayIdFor(dataDir: string): string {
  const file = join(dataDir, 'gateway-id');
  if (existsSync(file)) {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[a-z0-9-]{4,32}$/.test(id)) return id;
  }
  const id = randomBytes(4).toString('hex');
  writeFileSync(file, id + '\n');
  return id;
}

export function discoveredJson(d: DiscoveredService, now: number) {
  return {
    device_id: d.deviceId,
    name: d.name,
    host: d.host,
    addresses: d.addresses,
    port: d.port,
    service_type: d.serviceType,
    txt: d.txt,
    interface: d.interface,
    first_seen: new Date(d.firstSeen).toISOString(),
    last_seen: new Date(d.lastSeen).toISOString(),
    last_seen_age_ms: Math.max(0, now - d.lastSeen),
  };
}

export function discoveryExtension(o: DiscoveryPartOptions = {}): ExtensionFactory {
  return (ctx: GatewayContext): GatewayExtension => {
    let discovery: Discovery | null = null;
    const gatewayId = gatewayIdFor(ctx.options.dataDir);
    const list = () => (discovery?.devices() ?? []).map((d) => discoveredJson(d, ctx.clock.now()));
    const probes = () => {
      const p = discovery?.probeStats();
      return p ? { received: p.received, answered: p.answered, malformed: p.malformed, rate_limited: p.rateLimited, ignored: p.ignored } : null;
    };
    const snapshot = () => ({
      gateway_id: gatewayId,
      devices: list(),
      links: (discovery?.links() ?? []).map((l) => ({ name: l.name, addresses: l.addresses.map((a) => a.address) })),
      mdns: discovery?.status().mdns ?? [],
      probe_port: discovery?.status().probePort ?? null,
      probes: probes(),
    });
    (ctx as { lanDevices: GatewayContext['lanDevices'] }).lanDevices = () => discovery?.devices() ?? [];

    return {
      name: 'discovery',
      frames: { get_discovered: Type.Object({ type: Type.Literal('get_discovered'), id: Type.Optional(Type.Union([Type.String({ maxLength: 64 }), Type.Integer()])) }) },
      handle(_frame, op) {
        op.reply('discovered', snapshot());
      },
      async http(h) {
        if (h.segments[0] !== 'discovery' || h.segments.length !== 1 || h.method !== 'GET') return false;
        h.json(200, snapshot());
        return true;
      },
      status: () => ({ discovery: { gateway_id: gatewayId, mdns: discovery?.status().mdns.length ?? 0, probe_port: discovery?.status().probePort ?? null, discovered: discovery?.devices().length ?? 0 } }),
      async start() {
        discovery = await startDiscovery({
          port: ctx.port,
          gatewayId,
          deviceAuth: ctx.options.deviceAuth,
          interfaces: o.interfaces ?? [],
          mdns: o.mdns ?? true,
          udpProbePort: o.udpProbePort ?? 8766,
          logger: ctx.log,
          clock: ctx.clock,
        });
        const now = () => ctx.clock.now();
        discovery.on('added', (d) => ctx.operators.publish('discovery', { event: 'added', device: discoveredJson(d, now()) }));
        discovery.on('updated', (d) => ctx.operators.publish('discovery', { event: 'updated', device: discoveredJson(d, now()) }));
        discovery.on('removed', (d, reason) => ctx.operators.publish('discovery', { event: 'removed', reason, device: discoveredJson(d, now()) }));
        const st = discovery.status();
        ctx.log.info('discovery', { gateway_id: gatewayId, mdns: st.mdns.map((m) => `${m.interface}=${m.address}`).join(',') || 'off', udp_probe_port: st.probePort ?? 'off' });
      },
      async close() {
        await discovery?.close();
        discovery = null;
      },
    };
  };
}

/**
 * Discovery as a gateway part: advertise and browse once the port is known,
 * discovered services to operators (`discovery` topic, `get_discovered`,
 * `GET /api/discovery`), and the LAN view merged into the device list.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DiscoveryOperatorFrames } from '../../../firmware-protocol/discovery.js';
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

/** The operator's interface choice from the UI, kept in the data folder; flags at start win over it. */
function savedInterfaces(dataDir: string): string[] | null {
  try {
    const v = JSON.parse(readFileSync(join(dataDir, 'discovery.json'), 'utf8')) as { interfaces?: unknown };
    return Array.isArray(v.interfaces) && v.interfaces.every((x) => typeof x === 'string') ? (v.interfaces as string[]) : null;
  } catch {
    return null;
  }
}

/** Non-internal IPv4 interfaces of this machine, as choices for the operator. */
function interfaceChoices(chosen: readonly string[]) {
  const out: { name: string; address: string; selected: boolean }[] = [];
  for (const [name, list] of Object.entries(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      out.push({ name, address: a.address, selected: chosen.length === 0 || chosen.includes(name) || chosen.includes(a.address) });
    }
  }
  return out;
}

export function discoveryExtension(o: DiscoveryPartOptions = {}): ExtensionFactory {
  return (ctx: GatewayContext): GatewayExtension => {
    let discovery: Discovery | null = null;
    const gatewayId = gatewayIdFor(ctx.options.dataDir);
    let chosen: string[] = o.interfaces?.length ? o.interfaces : (savedInterfaces(ctx.options.dataDir) ?? []);
    const settings = () => ({ interfaces: interfaceChoices(chosen), chosen, mdns: o.mdns ?? true, udp_probe_port: o.udpProbePort === false ? null : (o.udpProbePort ?? 8766) });
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
      frames: DiscoveryOperatorFrames,
      async handle(frame, op) {
        if (frame.type === 'get_discovered') return op.reply('discovered', snapshot());
        if (frame.type === 'get_discovery_settings') return op.reply('discovery_settings', settings());
        const wanted = frame.interfaces as string[];
        const known = interfaceChoices([]);
        const unknown = wanted.filter((w) => !known.some((k) => k.name === w || k.address === w));
        if (unknown.length) return op.error('NOT_FOUND', `no interface ${unknown.map((u) => `'${u}'`).join(', ')} on this machine`);
        chosen = [...new Set(wanted)];
        writeFileSync(join(ctx.options.dataDir, 'discovery.json'), JSON.stringify({ interfaces: chosen }) + '\n');
        // Goodbyes on the old interfaces, announcements on the new ones.
        await discovery?.close();
        discovery = null;
        await start();
        ctx.log.info('discovery interfaces changed by an operator', { interfaces: chosen.join(',') || 'all' });
        return op.reply('discovery_settings', settings());
      },
      async http(h) {
        if (h.segments[0] !== 'discovery' || h.segments.length !== 1 || h.method !== 'GET') return false;
        h.json(200, snapshot());
        return true;
      },
      status: () => ({ discovery: { gateway_id: gatewayId, mdns: discovery?.status().mdns.length ?? 0, probe_port: discovery?.status().probePort ?? null, discovered: discovery?.devices().length ?? 0 } }),
      start,
      async close() {
        await discovery?.close();
        discovery = null;
      },
    };

    async function start(): Promise<void> {
      discovery = await startDiscovery({
        port: ctx.port,
        gatewayId,
        deviceAuth: ctx.options.deviceAuth,
        interfaces: chosen,
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
    }
  };
}

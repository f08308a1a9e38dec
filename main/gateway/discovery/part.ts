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
import type { Core, PartFactory } from '../core.js';
import { answer, defineRequest, type GatewayPart } from '../parts.js';
import { gatewayError } from '../errors.js';
import { startDiscovery, type DiscoveredService, type Discovery } from './index.js';


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

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || host === 'localhost';
}

/**
 * Where discovery may run given the address the gateway listens on: on every
 * chosen interface when it listens on all of them; on that one address when it
 * listens on one (a board told about any other could not connect); nowhere on
 * the LAN when that address is a loopback one, the probe then bound to it.
 */
export function discoveryScope(host: string, chosen: readonly string[]): { interfaces: string[]; mdns: boolean; probeBind: string } {
  if (host === '0.0.0.0' || host === '::' || host === '') return { interfaces: [...chosen], mdns: true, probeBind: '0.0.0.0' };
  if (isLoopback(host)) return { interfaces: [host], mdns: false, probeBind: host === 'localhost' ? '127.0.0.1' : host };
  // Broadcast probes reach only a socket bound to 0.0.0.0; the explicit interface list keeps the answers to this address.
  return { interfaces: [host], mdns: true, probeBind: '0.0.0.0' };
}

/** Discovery as `options.discovery` says; with mDNS and the probe both off, it only answers that it is off. */
export function discoveryPart(): PartFactory {
  return (core: Core): GatewayPart => {
    const { options, log, clock, operators } = core;
    const o = options.discovery;
    let discovery: Discovery | null = null;
    let port = 0;
    const { mdns, udpProbePort } = o;
    const gatewayId = gatewayIdFor(options.dataDir);
    let chosen: string[] = o.interfaces?.length ? [...o.interfaces] : (savedInterfaces(options.dataDir) ?? []);
    const settings = () => ({ interfaces: interfaceChoices(chosen), chosen, mdns, udp_probe_port: udpProbePort === false ? null : udpProbePort });
    const list = () => (discovery?.devices() ?? []).map((d) => discoveredJson(d, clock.now()));
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

    async function start(): Promise<void> {
      if (!mdns && udpProbePort === false) return;
      const scope = discoveryScope(options.host, chosen);
      if (!scope.mdns && mdns) log.info('mdns: not advertised, the gateway listens on a loopback address only', { host: options.host });
      discovery = await startDiscovery({ port, gatewayId, deviceAuth: options.deviceAuth, certSha256: options.tls?.fingerprint ?? null, interfaces: scope.interfaces, mdns: mdns && scope.mdns, udpProbePort, udpProbeBind: scope.probeBind, logger: log, clock });
      const now = () => clock.now();
      discovery.on('added', (d) => operators.publish('discovery', { event: 'added', device: discoveredJson(d, now()) }));
      discovery.on('updated', (d) => operators.publish('discovery', { event: 'updated', device: discoveredJson(d, now()) }));
      discovery.on('removed', (d, reason) => operators.publish('discovery', { event: 'removed', reason, device: discoveredJson(d, now()) }));
      const st = discovery.status();
      log.info('discovery', { gateway_id: gatewayId, mdns: st.mdns.map((m) => `${m.interface}=${m.address}`).join(',') || 'off', udp_probe_port: st.probePort ?? 'off' });
    }

    const F = DiscoveryOperatorFrames;
    return {
      name: 'discovery',
      hooks: { lanDevices: () => discovery?.devices() ?? [] },
      requests: {
        get_discovered: defineRequest(F.get_discovered, { http: 'GET /discovery', handle: () => answer('discovered', snapshot()) }),
        get_discovery_settings: defineRequest(F.get_discovery_settings, { http: 'GET /discovery/settings', handle: () => answer('discovery_settings', settings()) }),
        set_discovery_interfaces: defineRequest(F.set_discovery_interfaces, {
          http: 'PUT /discovery/settings',
          async handle(f) {
            const known = interfaceChoices([]);
            const unknown = f.interfaces.filter((w) => !known.some((k) => k.name === w || k.address === w));
            if (unknown.length) throw gatewayError('NOT_FOUND', `no interface ${unknown.map((u) => `'${u}'`).join(', ')} on this machine`);
            chosen = [...new Set(f.interfaces)];
            writeFileSync(join(options.dataDir, 'discovery.json'), JSON.stringify({ interfaces: chosen }) + '\n', { mode: 0o600 });
            // Goodbyes on the old interfaces, announcements on the new ones.
            await discovery?.close();
            discovery = null;
            await start();
            log.info('discovery interfaces changed by an operator', { interfaces: chosen.join(',') || 'all' });
            return answer('discovery_settings', settings());
          },
        }),
      },
      status: () => ({ discovery: { gateway_id: gatewayId, mdns: discovery?.status().mdns.length ?? 0, probe_port: discovery?.status().probePort ?? null, discovered: discovery?.devices().length ?? 0 } }),
      async start(listening) {
        port = listening.port;
        await start();
      },
      certificateRenewed(tls) {
        discovery?.setCertSha256(tls.fingerprint);
      },
      async close() {
        await discovery?.close();
        discovery = null;
      },
    };
  };
}

/**
 * The board side of discovery, as firmware does it: ask mDNS for
 * `_courtside._tcp`, and if nothing answers soon, broadcast UDP probes too.
 * Used by the simulator and by tests standing in for a board.
 */
import dgram from 'node:dgram';
import { Paths } from '../../../firmware-protocol/index.js';
import {
  GATEWAY_SERVICE_TYPE,
  GatewayTxtKeys,
  PROBE_PORT,
  gatewayBaseUrl,
  parseProbeAnswer,
  probeFrame,
  type DeviceAuth,
} from '../../../firmware-protocol/discovery.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { silentLogger, type Logger } from '../log.js';
import { ServiceBrowser, type DiscoveredService } from './browse.js';
import { LinkWatcher, broadcastAddress, inSubnet, type InterfaceList } from './links.js';
import { MdnsPool } from './mdns-pool.js';

export interface FindGatewayOptions {
  /** Give up after this long. Default 5000 ms. */
  timeoutMs?: number;
  /** Interface name or IPv4 address to search on. Default every non-internal IPv4 interface. */
  interface?: string;
  /** The gateway's UDP probe port. Default 8766. */
  probePort?: number;
  /** `device_id` sent in probes. Default `courtside-sim`. */
  deviceId?: string;
  /** Ask mDNS. Default true. */
  mdns?: boolean;
  /** Broadcast UDP probes. Default true. */
  udp?: boolean;
  /** How long mDNS is tried alone before probes start. Default min(1500, timeoutMs / 2) ms; 0 with `mdns: false`. */
  mdnsFirstMs?: number;
  /** Gap between probe broadcasts. Default 1000 ms. */
  probeIntervalMs?: number;
  clock?: Clock;
  logger?: Logger;
  /** Interface list (tests). Default `os.networkInterfaces`. */
  listInterfaces?: InterfaceList;
}

export interface FoundGateway {
  /** Base URL, e.g. `ws://192.168.4.2:8765/`; the board endpoint is this + boardPath + `{device_code}/`. */
  url: string;
  via: 'mdns' | 'udp';
  gatewayId: string | null;
  boardPath: string;
  auth: DeviceAuth | null;
  /** With a TLS gateway (the url is then wss://): the SHA-256 of its certificate, to pin. */
  certSha256: string | null;
}

export class GatewayNotFoundError extends Error {
  constructor(ms: number) {
    super(`no Courtside gateway answered within ${ms} ms`);
    this.name = 'GatewayNotFoundError';
  }
}

function fromService(s: DiscoveredService, local: readonly { address: string; netmask: string }[]): FoundGateway {
  // A multi-homed gateway lists several addresses; take one this board can reach directly.
  const addr = s.addresses.find((a) => local.some((l) => inSubnet(a, l))) ?? s.addresses[0]!;
  const auth = s.txt[GatewayTxtKeys.auth];
  const sha = s.txt[GatewayTxtKeys.certSha256];
  const certSha256 = sha !== undefined && /^[0-9a-f]{64}$/.test(sha) ? sha : null;
  return {
    url: gatewayBaseUrl(addr, s.port, certSha256 ? 'wss' : 'ws'),
    certSha256,
    via: 'mdns',
    gatewayId: s.txt[GatewayTxtKeys.gatewayId] ?? null,
    boardPath: s.txt[GatewayTxtKeys.path] || Paths.board,
    auth: auth === 'open' || auth === 'token' ? auth : null,
  };
}

/** Resolves with the first gateway found; rejects with GatewayNotFoundError after `timeoutMs`. */
export async function findGateway(opts: FindGatewayOptions = {}): Promise<FoundGateway> {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger ?? silentLogger;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const useMdns = opts.mdns ?? true;
  const useUdp = opts.udp ?? true;
  const watcher = new LinkWatcher({ spec: opts.interface ? [opts.interface] : [], clock, pollMs: 0, ...(opts.listInterfaces ? { list: opts.listInterfaces } : {}) });
  const localAddrs = () => watcher.current().flatMap((l) => l.addresses);
  if (!useMdns && !useUdp) throw new Error('findGateway: mdns and udp are both off');
  // Never fall back to every interface when the caller named one that is not here.
  if (opts.interface && watcher.current().length === 0) throw new Error(`findGateway: no interface or address ${opts.interface}`);
  const timers: TimerHandle[] = [];
  let pool: MdnsPool | undefined;
  let browser: ServiceBrowser | undefined;
  let socket: dgram.Socket | undefined;

  let settle!: (r: FoundGateway | Error) => void;
  const outcome = new Promise<FoundGateway | Error>((resolve) => (settle = resolve));
  let done = false;
  const finish = (r: FoundGateway | Error) => {
    if (done) return;
    done = true;
    settle(r);
  };
  timers.push(clock.setTimeout(() => finish(new GatewayNotFoundError(timeoutMs)), timeoutMs));

  if (useMdns) {
    pool = new MdnsPool(watcher, log);
    await pool.start();
    browser = new ServiceBrowser(pool, { types: [GATEWAY_SERVICE_TYPE], requeryIntervalMs: 1000, tickMs: 500 }, clock, log);
    browser.on('added', (s) => finish(fromService(s, localAddrs())));
    browser.start();
  }

  if (useUdp) {
    const s = (socket = dgram.createSocket('udp4'));
    s.on('message', (msg) => {
      const a = parseProbeAnswer(msg.toString('utf8'));
      if (!a.ok) return;
      finish({ url: a.value.urls[0]!, via: 'udp', gatewayId: a.value.gateway_id, boardPath: a.value.board_path, auth: a.value.auth, certSha256: a.value.cert_sha256 ?? null });
    });
    s.on('error', (err) => log.debug('find-gateway: probe socket error', { err: err.message }));
    await new Promise<void>((resolve) => s.bind(0, '0.0.0.0', () => resolve()));
    s.setBroadcast(true);
    const payload = Buffer.from(JSON.stringify(probeFrame(opts.deviceId ?? 'courtside-sim')));
    const port = opts.probePort ?? PROBE_PORT;
    const broadcast = () => {
      if (done) return;
      const targets = new Set(localAddrs().map(broadcastAddress));
      if (targets.size === 0) targets.add('255.255.255.255');
      for (const t of targets) s.send(payload, port, t, (err) => err && log.debug('find-gateway: probe not sent', { to: t, err: err.message }));
    };
    const first = useMdns ? (opts.mdnsFirstMs ?? Math.min(1500, timeoutMs / 2)) : 0;
    timers.push(
      clock.setTimeout(() => {
        broadcast();
        timers.push(clock.setInterval(broadcast, opts.probeIntervalMs ?? 1000));
      }, first),
    );
  }

  const result = await outcome;
  for (const t of timers) clock.clear(t);
  browser?.close();
  await pool?.close();
  if (socket) await new Promise<void>((resolve) => socket!.close(() => resolve()));
  if (result instanceof Error) throw result;
  return result;
}

/**
 * `startGateway`: the whole gateway in one call, free of Electron. The one
 * composition: `courtside serve`, `--demo`, the tests and the desktop app
 * all start the same parts from the same options, built in dependency order
 * (base services, core hubs, parts, dispatcher, server) with nothing filled
 * in afterwards.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Platform } from './platform/platform.js';
import { platformPart } from './platform/part.js';
import type { TSchema } from '@sinclair/typebox';
import { fileURLToPath } from 'node:url';
import { systemClock, type Clock } from './clock.js';
import type { Base } from './base.js';
import { createCore, type BoardAddress, type Core, type PartFactory } from './core.js';
import { Dispatcher } from './dispatch.js';
import { coreRequests } from './core-requests.js';
import { errorText, gatewayError, GatewayError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { DEFAULTS, defaultDataDir, type CoreOptions, type ResolvedOptions } from './options.js';
import type { GatewayPart, HookName, PartHooks } from './parts.js';
import { createGatewayServer } from './server.js';
import { createJwtCheck, mintToken, OPERATOR_TOKEN_PATTERN } from './auth.js';
import { openStore } from './store/index.js';
import { StoreWatch, type StoreWatchOptions } from './store-watch.js';
import type { Store } from './store/types.js';
import type { GatewayView } from './service.js';
import { sessionsPart } from './sessions/part.js';
import type { IngestOptions } from './sessions/ingest.js';
import { usbPart, type UsbPartOptions } from './usb/part.js';
import { discoveryPart } from './discovery/part.js';
import { settingsPart } from './settings-part.js';
import { certificateNames, resolveTls } from './tls/resolve.js';
import { startRenewal } from './tls/renew.js';
import { canonicalName } from './tls/cert.js';
import { FINGERPRINT_PARAM } from '../../firmware-protocol/tls.js';
import { otaPart, type OtaPartOptions } from './ota/part.js';
import { gatewayIdFor } from './discovery/part.js';
import { FleetLink } from './fleet/link.js';
import { fleetPart, fleetInfo } from './fleet/part.js';

export type { CoreOptions } from './options.js';

/** Everything `startGateway` takes: the settings, plus injected services and test hooks of the parts. */
export interface GatewayOptions extends CoreOptions {
  /** Replaces the stderr logger (tests, Electron). */
  logger?: Logger;
  /** Time source (tests). Default the system clock. */
  clock?: Clock;
  /** When the store counts as backed up or late (tests). */
  storeWatch?: StoreWatchOptions;
  /** Write-queue tuning of the sessions part (tests, benchmarks). */
  ingest?: IngestOptions;
  /** Port sources of the USB part (tests: pty board peers). */
  usb?: UsbPartOptions;
  /** The OTA download server (port, the address boards reach it by, TLS). */
  ota?: OtaPartOptions;
  /** The environment (`COURTSIDE_DISCOVERY=off`). Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Fleet tuning: key TTL, heartbeat (tests); stream history and publish backlog cap (`serve --redis-history`, `--redis-max-pending`). */
  fleet?: { ttlMs?: number; heartbeatMs?: number; history?: number; maxPending?: number };
  /** Replaces the standard parts; `[]` gives a bare gateway (rooms, signaling, boards, operators). Default `standardParts(options)`. */
  parts?: PartFactory[];
  /** Live on an application's http.Server instead of listening (embed.ts); `host` and `port` are then ignored. */
  server?: Server;
  /** Path of the Node WebSocket module's envelope endpoint. Default `/ws`. */
  path?: string;
  /** Handlers, middleware and events registered before the start (embed.ts). */
  platform?: Platform;
}

/** The parts every way of running the gateway has. */
export function standardParts(o: Pick<GatewayOptions, 'ingest' | 'usb' | 'ota'> = {}): PartFactory[] {
  return [sessionsPart(o.ingest), usbPart(o.usb), discoveryPart(), settingsPart(), fleetPart(), otaPart(o.ota)];
}

export interface Gateway {
  readonly port: number;
  readonly host: string;
  /** ws:// (wss:// with TLS) base URL on the listen address (127.0.0.1 when listening on all interfaces). */
  readonly url: string;
  /** http:// (https://, with `&sha256=` the fingerprint, with TLS) URL of the operator UI with the token, for this machine. */
  readonly operatorUrl: string;
  /** SHA-256 of the certificate served now (64 hex digits; a renewal changes it), null without TLS. */
  readonly fingerprint: string | null;
  /** Calls `fn` with each certificate renewed while running (what the banner showed changes); returns the unsubscribe. */
  onCertificateRenewed(fn: (tls: NonNullable<ResolvedOptions['tls']>) => void): () => void;
  readonly operatorToken: string;
  readonly options: ResolvedOptions;
  /** The hubs and base services. */
  readonly core: Core;
  /** The parts, by name, in start order. */
  readonly parts: readonly GatewayPart[];
  /** The parts' data-plane hooks (the sample sink, the LAN view). */
  readonly hooks: PartHooks;
  /** Every operator request the dispatcher answers, with the schema it validates with. */
  readonly requestSchemas: Readonly<Record<string, TSchema>>;
  readonly store: Store;
  /** The HTTP side (`/api/*`, `/metrics`, `/api/health`, the UI) for an application's own request routing. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** Closes sockets, stops timers, flushes and closes the store. Idempotent. */
  close(): Promise<void>;
}

/** Keeps the operator token across restarts so the printed URL stays valid. */
function operatorTokenFor(dataDir: string, given: string | undefined): string {
  if (given !== undefined) {
    if (!OPERATOR_TOKEN_PATTERN.test(given)) throw gatewayError('BAD_OPERATOR_TOKEN');
    return given;
  }
  const file = join(dataDir, 'operator-token');
  if (existsSync(file)) {
    const saved = readFileSync(file, 'utf8').trim();
    if (OPERATOR_TOKEN_PATTERN.test(saved)) return saved;
  }
  const token = mintToken(24);
  writeFileSync(file, token + '\n', { mode: 0o600 });
  return token;
}

function defaultUiDir(): string {
  // dist/main/gateway/index.js or main/gateway/index.ts -> <package>/dist/renderer
  const here = fileURLToPath(new URL('.', import.meta.url));
  const candidates = [join(here, '../../renderer'), join(here, '../../dist/renderer')];
  return candidates.find((c) => existsSync(join(c, 'index.html'))) ?? candidates[1]!;
}

/** Files that mark a folder as a Courtside data folder (one an earlier version made). */
const OWN_FILES = ['operator-token', 'courtside.sqlite', 'settings.json', 'gateway-id'];

/**
 * The data folder holds the operator token and the database: 0700. mkdir's mode applies only
 * to a folder it creates, so a folder an earlier version made 0755 is tightened too, but only
 * if it is ours (our uid, and it holds our files): a folder the user pointed --data-dir at that
 * is also something else (a home folder, a shared folder) keeps its mode.
 */
function makeDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const st = statSync(dataDir);
  const mine = typeof process.getuid !== 'function' || st.uid === process.getuid();
  if (mine && (st.mode & 0o077) !== 0 && OWN_FILES.some((f) => existsSync(join(dataDir, f)))) chmodSync(dataDir, st.mode & 0o700);
}

export function resolveOptions(o: CoreOptions, env: NodeJS.ProcessEnv = process.env, now = Date.now()): ResolvedOptions {
  const dataDir = o.dataDir ?? defaultDataDir();
  try {
    makeDataDir(dataDir);
  } catch {
    throw gatewayError('DATA_DIR_UNWRITABLE', dataDir);
  }
  const off = env.COURTSIDE_DISCOVERY === 'off';
  const host = o.host ?? DEFAULTS.host;
  return {
    host,
    port: o.port ?? DEFAULTS.port,
    db: o.db ?? join(dataDir, 'courtside.sqlite'),
    redis: o.redis ?? null,
    dataDir,
    operatorToken: operatorTokenFor(dataDir, o.operatorToken),
    // Keys for JWTs mean tokens are wanted: without an explicit mode they would admit everyone.
    deviceAuth: o.deviceAuth ?? (o.jwtSecret !== undefined || o.jwtPublicKeyFile !== undefined ? 'token' : DEFAULTS.deviceAuth),
    jwtSecret: o.jwtSecret ?? null,
    jwtPublicKeyFile: o.jwtPublicKeyFile ?? null,
    jwtIssuer: o.jwtIssuer ?? null,
    jwtAudience: o.jwtAudience ?? null,
    compression: o.compression ?? DEFAULTS.compression,
    compressionThreshold: o.compressionThreshold ?? DEFAULTS.compressionThreshold,
    logLevel: o.logLevel ?? DEFAULTS.logLevel,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
    maxPayloadBytes: o.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes,
    maxFramesPerSecond: o.maxFramesPerSecond ?? DEFAULTS.maxFramesPerSecond,
    maxBytesPerSecond: o.maxBytesPerSecond ?? DEFAULTS.maxBytesPerSecond,
    maxFramesPerSecondPerAddress: o.maxFramesPerSecondPerAddress ?? DEFAULTS.maxFramesPerSecondPerAddress,
    maxBytesPerSecondPerAddress: o.maxBytesPerSecondPerAddress ?? DEFAULTS.maxBytesPerSecondPerAddress,
    maxSendBufferBytes: o.maxSendBufferBytes ?? DEFAULTS.maxSendBufferBytes,
    sendQueueThresholdBytes: o.sendQueueThresholdBytes ?? DEFAULTS.sendQueueThresholdBytes,
    maxConnections: o.maxConnections ?? DEFAULTS.maxConnections,
    maxConnectionsPerAddress: o.maxConnectionsPerAddress ?? DEFAULTS.maxConnectionsPerAddress,
    identifyTimeoutMs: o.identifyTimeoutMs ?? DEFAULTS.identifyTimeoutMs,
    commandResendMs: o.commandResendMs ?? DEFAULTS.commandResendMs,
    statusLogIntervalMs: o.statusLogIntervalMs ?? DEFAULTS.statusLogIntervalMs,
    allowedOrigins: o.allowedOrigins ?? [],
    allowedHosts: o.allowedHosts ?? [],
    retentionDays: o.retentionDays ?? DEFAULTS.retentionDays,
    maxQueuedPerTarget: o.maxQueuedPerTarget ?? DEFAULTS.maxQueuedPerTarget,
    maxQueuedBytesPerTarget: o.maxQueuedBytesPerTarget ?? DEFAULTS.maxQueuedBytesPerTarget,
    maxStoredPerRoom: o.maxStoredPerRoom ?? DEFAULTS.maxStoredPerRoom,
    maxStoredBytesPerRoom: o.maxStoredBytesPerRoom ?? DEFAULTS.maxStoredBytesPerRoom,
    maxNewDevicesPerAddress: o.maxNewDevicesPerAddress ?? DEFAULTS.maxNewDevicesPerAddress,
    sensorFlushMs: o.sensorFlushMs ?? DEFAULTS.sensorFlushMs,
    cumulativeAckMs: o.cumulativeAckMs ?? DEFAULTS.cumulativeAckMs,
    uiDir: o.uiDir ?? defaultUiDir(),
    discovery: {
      mdns: off ? false : (o.discovery?.mdns ?? true),
      udpProbePort: off ? false : (o.discovery?.udpProbePort ?? 8766),
      interfaces: o.discovery?.interfaces ?? [],
    },
    tls: resolveTls(o.tls, { dataDir, host, lanAddresses: lanAddresses(), now })?.tls ?? null,
  };
}

/** Non-internal IPv4 addresses: what boards on the LAN can reach. */
export function lanAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) out.push(a.address);
  }
  return out;
}

/**
 * The addresses a gateway listening on `host` can be reached at, each with its
 * interface: every IPv4 address but loopback ones for 0.0.0.0 (a loopback one
 * only when the machine has no other), else `host` itself.
 */
export function boardAddresses(host: string, list = networkInterfaces()): BoardAddress[] {
  const all: BoardAddress[] = [];
  for (const [name, infos] of Object.entries(list)) {
    for (const a of infos ?? []) if (a.family === 'IPv4') all.push({ address: a.address, interface: name, loopback: a.internal || a.address.startsWith('127.') });
  }
  if (host === '0.0.0.0' || host === '::' || host === '') {
    const lan = all.filter((a) => !a.loopback);
    return lan.length ? lan : all.filter((a) => a.loopback);
  }
  const hit = all.find((a) => a.address === host);
  if (hit) return [hit];
  return [{ address: host, interface: null, loopback: host === 'localhost' || host === '::1' || host.startsWith('127.') }];
}

/** The store with this gateway's id on every connection row it opens. */
function ownedRows(store: Store, gatewayId: string): Store {
  return { ...store, openConnection: (c) => store.openConnection({ ...c, gatewayId }) };
}

/** Data-plane hooks from the parts; two parts offering the same hook is an error at start. */
function collectHooks(parts: readonly GatewayPart[]): PartHooks {
  const hooks: Record<string, unknown> = {};
  const owner: Record<string, string> = {};
  for (const p of parts) {
    for (const [name, hook] of Object.entries(p.hooks ?? {}) as [HookName, unknown][]) {
      if (hook === undefined) continue;
      if (owner[name]) throw gatewayError('DUPLICATE_HOOK', name, owner[name], p.name);
      owner[name] = p.name;
      hooks[name] = hook;
    }
  }
  return hooks as PartHooks;
}

export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const clock = options.clock ?? systemClock;
  const opts = resolveOptions(options, options.env, clock.now());
  const log: Logger = options.logger ?? createLogger(opts.logLevel);
  const gatewayId = gatewayIdFor(opts.dataDir);
  if (opts.redis !== null && !/^(mysql|mariadb):\/\//i.test(opts.db)) throw gatewayError('REDIS_NEEDS_SHARED_DB');
  // Before the store opens: a bad key file is a start-up error with nothing to undo.
  const jwt = createJwtCheck(opts, clock);
  let store: Store;
  try {
    store = ownedRows(await openStore(opts.db), gatewayId);
  } catch (err) {
    throw gatewayError('DB_OPEN_FAILED', errorText(err));
  }
  let fleet: FleetLink | null = null;
  if (opts.redis !== null) {
    fleet = new FleetLink({ url: opts.redis, gatewayId, log, ...options.fleet });
  }
  // Every store call counted (health, and device sockets paused while too many wait).
  const storeWatch = new StoreWatch(clock, options.storeWatch);
  store = storeWatch.wrap(store);
  const metrics = new Metrics();
  let listenPort = opts.port;
  const base: Base = {
    options: opts,
    store,
    log,
    clock,
    metrics,
    persist(work, what) {
      work.catch((err: unknown) => {
        metrics.storeErrors++;
        log.warn('database write failed', { what, error: errorText(err) });
      });
    },
  };
  const platform = options.platform ?? new Platform(clock);
  const core = createCore(base, { hosts: () => (opts.host === '0.0.0.0' || opts.host === '::' ? lanAddresses() : [opts.host]), port: () => listenPort, addresses: () => boardAddresses(opts.host) }, fleet, jwt, platform);

  const parts: GatewayPart[] = [];
  let server: ReturnType<typeof createGatewayServer>;
  let requestSchemas: Record<string, TSchema> = {};
  let hooks: PartHooks = {};
  try {
    for (const make of [platformPart(), ...(options.parts ?? standardParts(options))]) parts.push(await make(core));
    hooks = collectHooks(parts);
    const view: GatewayView = {
      core,
      lanDevices: () => hooks.lanDevices?.() ?? [],
      partStatus: () => Object.assign({}, ...parts.map((p) => p.status?.() ?? {})),
      partNames: () => parts.map((p) => p.name),
      requestTypes: () => Object.keys(requestSchemas),
    };
    const dispatcher = new Dispatcher([{ name: 'core', requests: coreRequests(view) }, ...parts], log);
    let live: string[] | undefined;
    if (fleet) {
      fleet.attach(core, () => fleetInfo(core, storeWatch));
      try {
        await fleet.start();
        live = (await fleet.liveGateways()).map((g) => g.gateway_id);
      } catch (err) {
        throw gatewayError('REDIS_UNAVAILABLE', opts.redis!, errorText(err));
      }
    }
    // Only this gateway's rows (and those of gateways whose heartbeat key expired): the open
    // sockets of another gateway on the same database are not this one's to close.
    const closed = await store.closeDanglingConnections(new Date(clock.now()), { own: gatewayId, ...(live ? { live } : {}) });
    if (closed > 0) log.info('closed connections left open by an earlier run', { count: closed });
    await core.boards.load();
    server = createGatewayServer({ core, dispatcher, hooks, storeWatch, ...(options.server ? { server: options.server } : {}), ...(options.path ? { envelopePath: options.path } : {}) });
    if (options.server) {
      // The application listens; the gateway starts once it does (the port is needed by the parts).
      if (!options.server.listening) await new Promise<void>((resolve) => options.server!.once('listening', () => resolve()));
    } else {
      await new Promise<void>((resolve, reject) => {
        server.listener.once('error', reject);
        server.listener.listen(opts.port, opts.host, () => {
          server.listener.off('error', reject);
          resolve();
        });
      });
    }
    requestSchemas = dispatcher.schemas();
  } catch (err) {
    for (const p of [...parts].reverse()) await p.close?.().catch(() => {});
    await fleet?.close().catch(() => {});
    await store.close().catch(() => {});
    const e = err as NodeJS.ErrnoException;
    if (err instanceof GatewayError) throw err;
    throw e.code === 'EADDRINUSE' ? gatewayError('PORT_IN_USE', opts.port) : gatewayError('LISTEN_FAILED', errorText(err));
  }
  listenPort = (server.listener.address() as AddressInfo).port;
  platform.notifyOperators = (message, level) => void core.operators.notifyAll({ type: 'system_notification', message, level, timestamp: new Date(clock.now()).toISOString() });
  core.commands.start();
  core.rooms.start();
  for (const p of parts) await p.start?.({ port: listenPort });
  const statusTimer = opts.statusLogIntervalMs > 0 ? clock.setInterval(() => log.info('status ' + core.rooms.statusLine(), { boards: core.boards.onlineCount(), signaling: core.signaling.count(), users: core.users.count(), operators: core.operators.count() }), opts.statusLogIntervalMs) : undefined;

  const renewal = startRenewal({ opts, server, parts, log, clock, lanAddresses });
  const localHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const fp = () => (opts.tls ? `&${FINGERPRINT_PARAM}=${opts.tls.fingerprint}` : '');
  let closing: Promise<void> | undefined;
  platform.status = () => (closing ? 'stopped' : storeWatch.lateReason() === null ? 'healthy' : 'degraded');
  const gateway: Gateway = {
    port: listenPort,
    host: opts.host,
    url: `${opts.tls ? 'wss' : 'ws'}://${localHost}:${listenPort}`,
    get operatorUrl() {
      return `${opts.tls ? 'https' : 'http'}://${localHost}:${listenPort}/?token=${opts.operatorToken}${fp()}`;
    },
    get fingerprint() {
      return opts.tls?.fingerprint ?? null;
    },
    onCertificateRenewed: (fn) => renewal.onRenewed(fn),
    operatorToken: opts.operatorToken,
    options: opts,
    core,
    parts,
    hooks,
    requestSchemas,
    store,
    handleRequest: (req, res) => server.handleRequest(req, res),
    close() {
      closing ??= (async () => {
        clock.clear(statusTimer);
        renewal.stop();
        platform.stop();
        core.commands.stop();
        core.rooms.stop();
        core.users.acks.stop();
        for (const p of [...parts].reverse()) {
          await p.close?.().catch((err: unknown) => log.warn('part close failed', { part: p.name, error: errorText(err) }));
        }
        await server.close();
        // Close rows written by the socket close handlers must land before the store goes.
        await new Promise((r) => setImmediate(r));
        await fleet?.close().catch(() => {});
        await store.close();
      })();
      return closing;
    },
  };
  log.info('gateway listening', { host: opts.host, port: listenPort, db: store.description, device_auth: opts.deviceAuth, tls: opts.tls ? 'on' : 'off' });
  if (opts.tls) {
    log.info('tls certificate', { sha256: opts.tls.fingerprintColons, source: opts.tls.source, valid_until: new Date(opts.tls.notAfter).toISOString() });
    const { dnsNames, addresses } = certificateNames({ ...opts, lanAddresses: lanAddresses() });
    const missing = [...dnsNames, ...addresses].map(canonicalName).filter((n) => !opts.tls!.names.includes(n));
    // Kept rather than replaced (the fingerprint boards pinned would change): browsers warn on these names.
    if (missing.length && opts.tls.source === 'generated') log.warn('tls certificate does not name these addresses; browsers will warn on them (the .local name works)', { missing: missing.join(',') });
  }
  return gateway;
}

export { GatewayError };

// The embedding API (the Node WebSocket module's users): see embed.ts and the README.
export * from './embed.js';

/**
 * `startGateway`: the whole gateway in one call, free of Electron, so the CLI,
 * the desktop app, the tests and the benchmark all run the same thing.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { systemClock } from './clock.js';
import type { GatewayContext } from './context.js';
import { gatewayError, GatewayError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { DEFAULTS, defaultDataDir, type GatewayOptions, type ResolvedOptions } from './options.js';
import { RoomHub } from './rooms.js';
import { SignalHub } from './signaling.js';
import { BoardHub } from './boards.js';
import { CommandQueue } from './commands.js';
import { UserHub } from './users.js';
import { OperatorHub } from './operators.js';
import { createGatewayServer } from './server.js';
import { mintToken, OPERATOR_TOKEN_PATTERN } from './auth.js';
import { openStore } from './store/index.js';
import type { Store } from './store/types.js';
import type { SessionStatusProvider } from './endpoints/user.js';
import { Paths } from '../../firmware-protocol/index.js';
import type { ExtensionFactory } from './extensions.js';
import { sessionsExtension } from './sessions/extension.js';
import { usbExtension } from './usb/extension.js';

export type { GatewayOptions } from './options.js';

/** The standard parts; `extensions: []` gives a bare gateway (rooms, signaling, boards, operators). */
export function defaultExtensions(): ExtensionFactory[] {
  return [sessionsExtension(), usbExtension];
}

export interface Gateway {
  readonly port: number;
  readonly host: string;
  /** ws:// base URL on the listen address (127.0.0.1 when listening on all interfaces). */
  readonly url: string;
  /** http:// URL of the operator UI with the token, for this machine. */
  readonly operatorUrl: string;
  readonly operatorToken: string;
  readonly context: GatewayContext;
  readonly store: Store;
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

export function resolveOptions(o: GatewayOptions): ResolvedOptions {
  const dataDir = o.dataDir ?? defaultDataDir();
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch {
    throw gatewayError('DATA_DIR_UNWRITABLE', dataDir);
  }
  return {
    host: o.host ?? DEFAULTS.host,
    port: o.port ?? DEFAULTS.port,
    db: o.db ?? join(dataDir, 'courtside.sqlite'),
    dataDir,
    operatorToken: operatorTokenFor(dataDir, o.operatorToken),
    deviceAuth: o.deviceAuth ?? DEFAULTS.deviceAuth,
    logLevel: o.logLevel ?? DEFAULTS.logLevel,
    heartbeatIntervalMs: o.heartbeatIntervalMs ?? DEFAULTS.heartbeatIntervalMs,
    maxPayloadBytes: o.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes,
    maxFramesPerSecond: o.maxFramesPerSecond ?? DEFAULTS.maxFramesPerSecond,
    maxConnections: o.maxConnections ?? DEFAULTS.maxConnections,
    commandResendMs: o.commandResendMs ?? DEFAULTS.commandResendMs,
    statusLogIntervalMs: o.statusLogIntervalMs ?? DEFAULTS.statusLogIntervalMs,
    allowedOrigins: o.allowedOrigins ?? [],
    sensorFlushMs: o.sensorFlushMs ?? DEFAULTS.sensorFlushMs,
    uiDir: o.uiDir ?? defaultUiDir(),
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

export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const opts = resolveOptions(options);
  const log: Logger = options.logger ?? createLogger(opts.logLevel);
  const clock = options.clock ?? systemClock;
  let store: Store;
  try {
    store = await openStore(opts.db);
  } catch (err) {
    throw gatewayError('DB_OPEN_FAILED', err instanceof Error ? err.message : String(err));
  }
  const metrics = new Metrics();
  let listenPort = opts.port;
  const hosts = () => (opts.host === '0.0.0.0' || opts.host === '::' ? lanAddresses() : [opts.host]);

  const ctx = {
    options: opts,
    store,
    log,
    clock,
    metrics,
    persist(work: Promise<unknown>, what: string) {
      work.catch((err: unknown) => {
        metrics.storeErrors++;
        log.warn('database write failed', { what, error: err instanceof Error ? err.message : String(err) });
      });
    },
    urls() {
      const hs = hosts();
      return {
        board: hs.map((h) => `ws://${h}:${listenPort}${Paths.board}`),
        operator: hs.map((h) => `http://${h}:${listenPort}/?token=${opts.operatorToken}`),
      };
    },
  } as unknown as { -readonly [K in keyof GatewayContext]: GatewayContext[K] };
  ctx.rooms = new RoomHub(ctx);
  ctx.signaling = new SignalHub(ctx);
  ctx.boards = new BoardHub(ctx);
  ctx.commands = new CommandQueue(ctx);
  ctx.users = new UserHub(ctx);
  ctx.operators = new OperatorHub(ctx);
  ctx.port = opts.port;
  ctx.sampleSink = null;
  ctx.sessionStatus = null;
  ctx.lanDevices = null;
  ctx.keepalive = null;
  ctx.extensions = [];
  for (const make of options.extensions ?? defaultExtensions()) ctx.extensions.push(await make(ctx));

  const closed = await store.closeDanglingConnections(new Date(clock.now()));
  if (closed > 0) log.info('closed connections left open by an earlier run', { count: closed });
  await ctx.boards.load();

  const sessionStatus: SessionStatusProvider = (userId, sessionId) => ctx.sessionStatus?.(userId, sessionId) ?? Promise.resolve(null);
  const server = createGatewayServer(ctx, sessionStatus);
  try {
    await new Promise<void>((resolve, reject) => {
      server.http.once('error', reject);
      server.http.listen(opts.port, opts.host, () => {
        server.http.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await store.close().catch(() => {});
    const e = err as NodeJS.ErrnoException;
    throw e.code === 'EADDRINUSE' ? gatewayError('PORT_IN_USE', opts.port) : gatewayError('LISTEN_FAILED', e.message);
  }
  listenPort = (server.http.address() as AddressInfo).port;
  ctx.port = listenPort;
  ctx.commands.start();
  for (const ext of ctx.extensions) await ext.start?.();
  const statusTimer = opts.statusLogIntervalMs > 0 ? clock.setInterval(() => log.info('status ' + ctx.rooms.statusLine(), { boards: ctx.boards.onlineCount(), signaling: ctx.signaling.count(), users: ctx.users.count(), operators: ctx.operators.count() }), opts.statusLogIntervalMs) : undefined;

  const localHost = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  let closing: Promise<void> | undefined;
  const gateway: Gateway = {
    port: listenPort,
    host: opts.host,
    url: `ws://${localHost}:${listenPort}`,
    operatorUrl: `http://${localHost}:${listenPort}/?token=${opts.operatorToken}`,
    operatorToken: opts.operatorToken,
    context: ctx,
    store,
    close() {
      closing ??= (async () => {
        clock.clear(statusTimer);
        ctx.commands.stop();
        for (const ext of [...ctx.extensions].reverse()) {
          await ext.close?.().catch((err: unknown) => log.warn('extension close failed', { extension: ext.name, error: String(err) }));
        }
        await server.close();
        // Close rows written by the socket close handlers must land before the store goes.
        await new Promise((r) => setImmediate(r));
        await store.close();
      })();
      return closing;
    },
  };
  log.info('gateway listening', { host: opts.host, port: listenPort, db: store.description, device_auth: opts.deviceAuth });
  return gateway;
}

export { GatewayError };

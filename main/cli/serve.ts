/** `courtside serve`: run the gateway until Ctrl-C. */
import { existsSync } from 'node:fs';
import { parseOtaFailSpec } from '../simulator/ota.js';
import { LOG_LEVELS } from '../gateway/log.js';
import { startGateway, type Gateway } from '../gateway/index.js';
import { launchOptions } from '../gateway/launch.js';
import { tuneHeapForStreaming } from '../gateway/heap.js';
import { GatewayError } from '../gateway/errors.js';
import { VERSION } from '../gateway/version.js';
import { defaultDataDir, DEFAULTS } from '../gateway/options.js';
import { choiceFlag, HELP_OPTION, intFlag, parse, runCommand, UsageError } from './args.js';
import { errorPrefix, untilStopped, type CommandIO } from './io.js';

export const SERVE_HELP = `Usage: courtside serve [options]

Runs the gateway: rooms and signaling on /, boards on /ws/esp32/<device_code>/,
players on /ws/miniprogram/<user_id>/, operators on /ws/admin/ and the UI on http://host:port/.

Options:
  --host ADDR            address to listen on (default ${DEFAULTS.host})
  --port N               TCP port, 0 for any free one (default ${DEFAULTS.port})
  --db SPEC              SQLite file path or mysql://user:pass@host:port/db
                         (default <data-dir>/courtside.sqlite)
  --redis URL            redis://host:port[/db]: act as one fleet with every gateway that names
                         the same Redis and the same MySQL/MariaDB --db (not with SQLite)
                         (default none: a gateway on its own)
  --redis-history N      fleet events the Redis stream keeps (approximately): how far behind
                         a gateway may fall (Redis away, the process frozen) and still catch
                         up; past it clients that asked get fleet_gap 'trimmed' (default 10000)
  --redis-max-pending N  events a gateway holds for Redis while it does not answer; past it
                         they are dropped and told as fleet_gap 'dropped' (default 20000)
  --data-dir DIR         data folder (default ${defaultDataDir()})
  --operator-token T     token for the operator UI and API, 16-256 of A-Z a-z 0-9 - _
                         (default: made at first start, kept in <data-dir>/operator-token)
  --device-auth MODE     open (any board or client) or token (device tokens only) (default open)
  --jwt-secret S         also accept HS256 JWTs signed with S wherever a device token is;
                         sub must be the id connecting (device code, room or signaling
                         client id, user id); makes token the default device auth
  --jwt-public-key FILE  also accept RS256/ES256 JWTs: a PEM public key or a JWKS file
  --jwt-issuer ISS       JWTs must carry this iss (default not checked)
  --jwt-audience AUD     JWTs must carry this aud (default not checked)
  --compression MODE     on or off: permessage-deflate when a client offers it (default on)
  --compression-threshold N
                         frames under N bytes go uncompressed (default ${DEFAULTS.compressionThreshold})
  --log-level LEVEL      ${LOG_LEVELS.join(', ')} (default info)
  --demo N               also run N simulated boards against this gateway
  --tls                  HTTPS and WSS on the port, with a certificate made for this
                         machine's names and addresses and kept in <data-dir>
                         (tls-cert.pem, tls-key.pem; renewed 30 days before it ends).
                         Plain http:// there only redirects (and answers /api/health)
  --tls-cert FILE        your own certificate (PEM) instead; with --tls-key, implies --tls
  --tls-key FILE         the key of --tls-cert (PEM)
  --no-tls               plain http:// and ws:// even if settings.json says "tls": true
                         (--tls and --no-tls win over the settings file)
  --demo-ota-fail SPEC   how demo boards fail firmware updates: download, verify,
                         rollback or refuse, or racket-3=rollback,racket-5=download
  --ota-port N           port boards download firmware updates from (default --port + 2)
  --mdns-interface X     advertise and browse on this interface (name like wlan0, or
                         an IPv4 address); repeat for more (default: every non-internal
                         IPv4 interface)
  --no-mdns              no mDNS advertising or browsing
  --udp-probe-port N     answer boards' UDP discovery probes on this port, 0 for off
                         (default 8766)
  --allow-origin URL     also accept operator requests from this browser origin; repeatable.
                         Device endpoints (boards, players, rooms on /) refuse every browser
                         Origin (403) except these
  --allow-host NAME      also answer the operator API and UI under this Host name, besides
                         this machine's addresses, localhost, its host name and
                         <hostname>.local (DNS rebinding); repeatable; * for any (default none)
  --max-connections N    WebSocket connections at most, all clients together
                         (default ${DEFAULTS.maxConnections})
  --max-connections-per-address N
                         WebSocket connections at most from one IP address; this machine
                         (127.0.0.1, ::1) is not counted (default ${DEFAULTS.maxConnectionsPerAddress})
  --max-bytes-per-second N
                         bytes a second one connection may send; past it the socket is read
                         more slowly, nothing is dropped; 0 for no limit (default ${DEFAULTS.maxBytesPerSecond})
  --max-frames-per-second-per-address N
                         frames a second all connections from one IP address may send
                         together; this machine is not counted (default ${DEFAULTS.maxFramesPerSecondPerAddress})
  --max-bytes-per-second-per-address N
                         bytes a second all connections from one IP address may send together;
                         0 for no limit (default ${DEFAULTS.maxBytesPerSecondPerAddress})
  --max-send-buffer-bytes N
                         close a connection (1008) with more than N bytes sent to it and not
                         read; operators lose live samples first, at N/4; 0 for no cap
                         (default ${DEFAULTS.maxSendBufferBytes})
  --identify-timeout-ms N
                         close a connection on / that has not sent its identity or register
                         frame after N ms, 0 for never (default ${DEFAULTS.identifyTimeoutMs})

Storage bounds (what clients can make the gateway keep):
  --retention-days N     delete messages (queued ones too), room queries and closed
                         connections older than N days, checked every hour; recorded
                         sessions are never deleted by it; 0 keeps everything
                         (default ${DEFAULTS.retentionDays})
  --max-queued-per-target N
                         direct messages queued for one device that is away; past it
                         QUOTA_EXCEEDED (default ${DEFAULTS.maxQueuedPerTarget})
  --max-queued-bytes-per-target N
                         bytes queued for one device (default ${DEFAULTS.maxQueuedBytesPerTarget})
  --max-stored-per-room N
                         messages one room keeps; past it broadcasts are relayed but not
                         stored and queuing is refused (default ${DEFAULTS.maxStoredPerRoom})
  --max-stored-bytes-per-room N
                         bytes one room keeps (default ${DEFAULTS.maxStoredBytesPerRoom})
  --max-new-devices-per-address N
                         device ids never seen before that one IP address may bring in an
                         hour; past it QUOTA_EXCEEDED and close 4429; this machine is not
                         counted (default ${DEFAULTS.maxNewDevicesPerAddress})
  (0 for no cap in each)

Settings from <data-dir>/settings.json (the UI's Settings view writes it) apply first;
flags win over them.

Environment: COURTSIDE_DISCOVERY=off turns mDNS and the UDP probe off (containers, tests).
  -h, --help             this help
`;

/** What a person compares with the browser's certificate viewer, and what boards pin. */
function tlsLines(gw: Gateway, t = gw.options.tls): string[] {
  if (!t) return [];
  const until = new Date(t.notAfter).toISOString().slice(0, 10);
  return [`  tls:         SHA-256 ${t.fingerprintColons}`, `               (${t.source === 'generated' ? `made for this machine, ${t.certFile}` : t.certFile}; valid until ${until})`];
}

function validHost(h: string): boolean {
  return /^[A-Za-z0-9.:-]{1,253}$/.test(h);
}

export function serveCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, async () => {
    const { values } = parse(argv, {
      host: { type: 'string' },
      port: { type: 'string' },
      db: { type: 'string' },
      redis: { type: 'string' },
      'redis-history': { type: 'string' },
      'redis-max-pending': { type: 'string' },
      'data-dir': { type: 'string' },
      'operator-token': { type: 'string' },
      'device-auth': { type: 'string' },
      'log-level': { type: 'string' },
      'jwt-secret': { type: 'string' },
      'jwt-public-key': { type: 'string' },
      'jwt-issuer': { type: 'string' },
      'jwt-audience': { type: 'string' },
      compression: { type: 'string' },
      'compression-threshold': { type: 'string' },
      demo: { type: 'string' },
      tls: { type: 'boolean' },
      'no-tls': { type: 'boolean' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'demo-ota-fail': { type: 'string' },
      'ota-port': { type: 'string' },
      'mdns-interface': { type: 'string', multiple: true },
      'no-mdns': { type: 'boolean' },
      'udp-probe-port': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      'allow-host': { type: 'string', multiple: true },
      'retention-days': { type: 'string' },
      'max-queued-per-target': { type: 'string' },
      'max-queued-bytes-per-target': { type: 'string' },
      'max-stored-per-room': { type: 'string' },
      'max-stored-bytes-per-room': { type: 'string' },
      'max-new-devices-per-address': { type: 'string' },
      'max-connections': { type: 'string' },
      'max-connections-per-address': { type: 'string' },
      'identify-timeout-ms': { type: 'string' },
      'max-bytes-per-second': { type: 'string' },
      'max-frames-per-second-per-address': { type: 'string' },
      'max-bytes-per-second-per-address': { type: 'string' },
      'max-send-buffer-bytes': { type: 'string' },
      ...HELP_OPTION,
    });
    if (values.help) {
      io.stdout.write(SERVE_HELP);
      return 0;
    }
    if (values.host !== undefined && !validHost(values.host)) throw new UsageError(`--host must be an address or host name, got '${values.host}'`);
    if (values.db !== undefined && values.db.trim() === '') throw new UsageError('--db must not be empty');
    if (values.redis !== undefined && !/^rediss?:\/\/[^\s/]+(\/\d{1,2})?\/?$/.test(values.redis)) throw new UsageError(`--redis must look like redis://host:port[/db], got '${values.redis}'`);
    const port = intFlag('port', values.port, 0, 65535);
    const redisHistory = intFlag('redis-history', values['redis-history'], 10, 100_000_000);
    const redisMaxPending = intFlag('redis-max-pending', values['redis-max-pending'], 1, 100_000_000);
    if ((redisHistory !== undefined || redisMaxPending !== undefined) && values.redis === undefined) throw new UsageError('--redis-history and --redis-max-pending need --redis');
    const demo = intFlag('demo', values.demo, 0, 500);
    const otaPort = intFlag('ota-port', values['ota-port'], 0, 65535);
    const demoOtaFail = values['demo-ota-fail'] === undefined ? undefined : parseOtaFailSpec(values['demo-ota-fail']);
    if (typeof demoOtaFail === 'string') throw new UsageError(`--demo-ota-fail: ${demoOtaFail}`);
    const deviceAuth = choiceFlag('device-auth', values['device-auth'], ['open', 'token'] as const);
    const logLevel = choiceFlag('log-level', values['log-level'], LOG_LEVELS);
    const compression = choiceFlag('compression', values.compression, ['on', 'off'] as const);
    const compressionThreshold = intFlag('compression-threshold', values['compression-threshold'], 0, 1 << 30);
    for (const f of ['jwt-secret', 'jwt-public-key', 'jwt-issuer', 'jwt-audience'] as const) {
      if (values[f] !== undefined && values[f].trim() === '') throw new UsageError(`--${f} must not be empty`);
    }
    if (values['jwt-public-key'] !== undefined && !existsSync(values['jwt-public-key'])) throw new UsageError(`--jwt-public-key: no file ${values['jwt-public-key']}`);
    const probePort = intFlag('udp-probe-port', values['udp-probe-port'], 0, 65535);
    const maxConnections = intFlag('max-connections', values['max-connections'], 1, 100_000);
    const maxConnectionsPerAddress = intFlag('max-connections-per-address', values['max-connections-per-address'], 1, 100_000);
    const identifyTimeoutMs = intFlag('identify-timeout-ms', values['identify-timeout-ms'], 0, 3_600_000);
    const maxBytesPerSecond = intFlag('max-bytes-per-second', values['max-bytes-per-second'], 0, 1 << 30);
    const maxFramesPerSecondPerAddress = intFlag('max-frames-per-second-per-address', values['max-frames-per-second-per-address'], 1, 1_000_000);
    const maxBytesPerSecondPerAddress = intFlag('max-bytes-per-second-per-address', values['max-bytes-per-second-per-address'], 0, 1 << 30);
    const maxSendBufferBytes = intFlag('max-send-buffer-bytes', values['max-send-buffer-bytes'], 0, 1 << 30);
    for (const o of values['allow-origin'] ?? []) {
      if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new UsageError(`--allow-origin must look like http://host:port, got '${o}'`);
    }
    const retentionDays = intFlag('retention-days', values['retention-days'], 0, 36500);
    const maxQueuedPerTarget = intFlag('max-queued-per-target', values['max-queued-per-target'], 0, 10_000_000);
    const maxQueuedBytesPerTarget = intFlag('max-queued-bytes-per-target', values['max-queued-bytes-per-target'], 0, 2 ** 40);
    const maxStoredPerRoom = intFlag('max-stored-per-room', values['max-stored-per-room'], 0, 100_000_000);
    const maxStoredBytesPerRoom = intFlag('max-stored-bytes-per-room', values['max-stored-bytes-per-room'], 0, 2 ** 40);
    const maxNewDevicesPerAddress = intFlag('max-new-devices-per-address', values['max-new-devices-per-address'], 0, 1_000_000);
    for (const h of values['allow-host'] ?? []) {
      if (h !== '*' && !/^[A-Za-z0-9.:[\]-]{1,253}$/.test(h)) throw new UsageError(`--allow-host must be a host name or address, got '${h}'`);
    }
    const tlsCert = values['tls-cert'];
    const tlsKey = values['tls-key'];
    if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
    if (tlsCert === '' || tlsKey === '') throw new UsageError('--tls-cert and --tls-key must not be empty');
    if (values['no-tls'] && (values.tls || tlsCert !== undefined)) throw new UsageError('--no-tls goes with neither --tls nor --tls-cert');
    // undefined: the settings file decides (off when it says nothing).
    const tls = tlsCert !== undefined && tlsKey !== undefined ? { certFile: tlsCert, keyFile: tlsKey } : values.tls ? true : values['no-tls'] ? false : undefined;
    let gw: Gateway;
    tuneHeapForStreaming();
    try {
      // The settings file (data folder) first, the flags over it: the same composition as the desktop app.
      gw = await startGateway({
        ...launchOptions({
          host: values.host,
          port,
          db: values.db,
          redis: values.redis,
          dataDir: values['data-dir'],
          operatorToken: values['operator-token'],
          deviceAuth,
          jwtSecret: values['jwt-secret'],
          jwtPublicKeyFile: values['jwt-public-key'],
          jwtIssuer: values['jwt-issuer'],
          jwtAudience: values['jwt-audience'],
          compression: compression === undefined ? undefined : compression === 'on',
          compressionThreshold,
          logLevel,
          allowedOrigins: values['allow-origin'],
          allowedHosts: values['allow-host'],
          retentionDays,
          maxQueuedPerTarget,
          maxQueuedBytesPerTarget,
          maxStoredPerRoom,
          maxStoredBytesPerRoom,
          maxNewDevicesPerAddress,
          maxConnections,
          maxConnectionsPerAddress,
          identifyTimeoutMs,
          maxBytesPerSecond,
          maxFramesPerSecondPerAddress,
          maxBytesPerSecondPerAddress,
          maxSendBufferBytes,
          tls,
          discovery: {
            mdns: values['no-mdns'] ? false : undefined,
            udpProbePort: probePort === 0 ? false : probePort,
            interfaces: values['mdns-interface'],
          },
        }),
        env: io.env,
        fleet: { history: redisHistory, maxPending: redisMaxPending },
        ...(otaPort !== undefined ? { ota: { port: otaPort } } : {}),
      });
    } catch (err) {
      if (err instanceof GatewayError) {
        io.stderr.write(`${errorPrefix(io)} ${err.message}\n`);
        return err.code === 'BAD_OPERATOR_TOKEN' || err.code === 'REDIS_NEEDS_SHARED_DB' || err.code === 'JWT_KEY_INVALID' ? 2 : 1;
      }
      throw err;
    }

    // Handlers go in before anything is printed: whoever reads the URL may stop us at once.
    const stopped = untilStopped(io).stopped.then((signal) => void io.stdout.write(`\n${signal}: closing (flushing writes)...\n`));

    const urls = gw.core.urls();
    const lines = [
      `Courtside ${VERSION} listening on ${gw.host}:${gw.port} (${gw.store.description})`,
      `  device auth: ${gw.core.options.deviceAuth}`,
      ...tlsLines(gw),
      ...urls.board.map((u) => `  boards:      ${u}<device_code>/`),
      ...[...new Set([gw.operatorUrl, ...urls.operator])].map((u) => `  operator:    ${u}`),
    ];
    const disc = gw.parts.find((p) => p.name === 'discovery')?.status?.().discovery as { mdns: number; probe_port: number | null } | undefined;
    lines.push(disc && (disc.mdns > 0 || disc.probe_port !== null) ? `  discovery:   mDNS on ${disc.mdns} interface${disc.mdns === 1 ? '' : 's'}, UDP probe ${disc.probe_port ?? 'off'}` : '  discovery:   off');
    const ota = gw.parts.find((p) => p.name === 'ota')?.status?.().ota as { port: number; scheme: string } | undefined;
    if (ota) lines.push(`  firmware:    ${ota.scheme} downloads on port ${ota.port} (OTA)`);
    io.stdout.write(lines.join('\n') + '\n');
    // The banner's fingerprint is what people compare and boards pin: a renewal says the new one in the same place.
    gw.onCertificateRenewed((t) => io.stdout.write(['tls certificate renewed: boards and phones pinning the old fingerprint need the new one', ...tlsLines(gw, t)].join('\n') + '\n'));

    let stopDemo: (() => Promise<void>) | undefined;
    if (demo) {
      const { startDemoFleet } = await import('./demo.js');
      stopDemo = await startDemoFleet(gw, demo, demoOtaFail);
      io.stdout.write(`  demo:        ${demo} simulated boards (racket-1..racket-${demo})\n`);
    }

    await stopped;
    await stopDemo?.();
    await gw.close();
    io.stdout.write('closed\n');
    return 0;
  });
}

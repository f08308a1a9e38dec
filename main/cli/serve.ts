/** `courtside serve`: run the gateway until Ctrl-C. */
import { LOG_LEVELS } from '../gateway/log.js';
import { startGateway, type Gateway } from '../gateway/index.js';
import { launchOptions } from '../gateway/launch.js';
import { GatewayError } from '../gateway/errors.js';
import { VERSION } from '../gateway/version.js';
import { defaultDataDir, DEFAULTS } from '../gateway/options.js';
import { choiceFlag, HELP_OPTION, intFlag, parse, runCommand, UsageError } from './args.js';
import { untilStopped, type CommandIO } from './io.js';

export const SERVE_HELP = `Usage: courtside serve [options]

Runs the gateway: rooms and signaling on /, boards on /ws/esp32/<device_code>/,
players on /ws/miniprogram/<user_id>/, operators on /ws/admin/ and the UI on http://host:port/.

Options:
  --host ADDR            address to listen on (default ${DEFAULTS.host})
  --port N               TCP port, 0 for any free one (default ${DEFAULTS.port})
  --db SPEC              SQLite file path or mysql://user:pass@host:port/db
                         (default <data-dir>/courtside.sqlite)
  --data-dir DIR         data folder (default ${defaultDataDir()})
  --operator-token T     token for the operator UI and API, 16-256 of A-Z a-z 0-9 - _
                         (default: made at first start, kept in <data-dir>/operator-token)
  --device-auth MODE     open (any board or client) or token (device tokens only) (default open)
  --log-level LEVEL      ${LOG_LEVELS.join(', ')} (default info)
  --demo N               also run N simulated boards against this gateway
  --mdns-interface X     advertise and browse on this interface (name like wlan0, or
                         an IPv4 address); repeat for more (default: every non-internal
                         IPv4 interface)
  --no-mdns              no mDNS advertising or browsing
  --udp-probe-port N     answer boards' UDP discovery probes on this port, 0 for off
                         (default 8766)
  --allow-origin URL     also accept operator requests from this browser origin; repeatable
  --allow-host NAME      also answer the operator API and UI under this Host name, besides
                         this machine's addresses, localhost, its host name and
                         <hostname>.local (DNS rebinding); repeatable; * for any (default none)
  --max-connections N    WebSocket connections at most, all clients together
                         (default ${DEFAULTS.maxConnections})
  --max-connections-per-address N
                         WebSocket connections at most from one IP address; this machine
                         (127.0.0.1, ::1) is not counted (default ${DEFAULTS.maxConnectionsPerAddress})
  --identify-timeout-ms N
                         close a connection on / that has not sent its identity or register
                         frame after N ms, 0 for never (default ${DEFAULTS.identifyTimeoutMs})

Settings from <data-dir>/settings.json (the UI's Settings view writes it) apply first;
flags win over them.

Environment: COURTSIDE_DISCOVERY=off turns mDNS and the UDP probe off (containers, tests).
  -h, --help             this help
`;

function validHost(h: string): boolean {
  return /^[A-Za-z0-9.:-]{1,253}$/.test(h);
}

export function serveCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, async () => {
    const { values } = parse(argv, {
      host: { type: 'string' },
      port: { type: 'string' },
      db: { type: 'string' },
      'data-dir': { type: 'string' },
      'operator-token': { type: 'string' },
      'device-auth': { type: 'string' },
      'log-level': { type: 'string' },
      demo: { type: 'string' },
      'mdns-interface': { type: 'string', multiple: true },
      'no-mdns': { type: 'boolean' },
      'udp-probe-port': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      'allow-host': { type: 'string', multiple: true },
      'max-connections': { type: 'string' },
      'max-connections-per-address': { type: 'string' },
      'identify-timeout-ms': { type: 'string' },
      ...HELP_OPTION,
    });
    if (values.help) {
      io.stdout.write(SERVE_HELP);
      return 0;
    }
    if (values.host !== undefined && !validHost(values.host)) throw new UsageError(`--host must be an address or host name, got '${values.host}'`);
    if (values.db !== undefined && values.db.trim() === '') throw new UsageError('--db must not be empty');
    const port = intFlag('port', values.port, 0, 65535);
    const demo = intFlag('demo', values.demo, 0, 500);
    const deviceAuth = choiceFlag('device-auth', values['device-auth'], ['open', 'token'] as const);
    const logLevel = choiceFlag('log-level', values['log-level'], LOG_LEVELS);
    const probePort = intFlag('udp-probe-port', values['udp-probe-port'], 0, 65535);
    const maxConnections = intFlag('max-connections', values['max-connections'], 1, 100_000);
    const maxConnectionsPerAddress = intFlag('max-connections-per-address', values['max-connections-per-address'], 1, 100_000);
    const identifyTimeoutMs = intFlag('identify-timeout-ms', values['identify-timeout-ms'], 0, 3_600_000);
    for (const o of values['allow-origin'] ?? []) {
      if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new UsageError(`--allow-origin must look like http://host:port, got '${o}'`);
    }
    for (const h of values['allow-host'] ?? []) {
      if (h !== '*' && !/^[A-Za-z0-9.:[\]-]{1,253}$/.test(h)) throw new UsageError(`--allow-host must be a host name or address, got '${h}'`);
    }
    let gw: Gateway;
    try {
      // The settings file (data folder) first, the flags over it: the same composition as the desktop app.
      gw = await startGateway({
        ...launchOptions({
          host: values.host,
          port,
          db: values.db,
          dataDir: values['data-dir'],
          operatorToken: values['operator-token'],
          deviceAuth,
          logLevel,
          allowedOrigins: values['allow-origin'],
          allowedHosts: values['allow-host'],
          maxConnections,
          maxConnectionsPerAddress,
          identifyTimeoutMs,
          discovery: {
            mdns: values['no-mdns'] ? false : undefined,
            udpProbePort: probePort === 0 ? false : probePort,
            interfaces: values['mdns-interface'],
          },
        }),
        env: io.env,
      });
    } catch (err) {
      if (err instanceof GatewayError) {
        io.stderr.write(`courtside: ${err.message}\n`);
        return err.code === 'BAD_OPERATOR_TOKEN' ? 2 : 1;
      }
      throw err;
    }

    // Handlers go in before anything is printed: whoever reads the URL may stop us at once.
    const stopped = untilStopped(io).stopped.then((signal) => void io.stdout.write(`\n${signal}: closing (flushing writes)...\n`));

    const urls = gw.core.urls();
    const lines = [
      `Courtside ${VERSION} listening on ${gw.host}:${gw.port} (${gw.store.description})`,
      `  device auth: ${gw.core.options.deviceAuth}`,
      ...urls.board.map((u) => `  boards:      ${u}<device_code>/`),
      ...[...new Set([gw.operatorUrl, ...urls.operator])].map((u) => `  operator:    ${u}`),
    ];
    const disc = gw.parts.find((p) => p.name === 'discovery')?.status?.().discovery as { mdns: number; probe_port: number | null } | undefined;
    lines.push(disc && (disc.mdns > 0 || disc.probe_port !== null) ? `  discovery:   mDNS on ${disc.mdns} interface${disc.mdns === 1 ? '' : 's'}, UDP probe ${disc.probe_port ?? 'off'}` : '  discovery:   off');
    io.stdout.write(lines.join('\n') + '\n');

    let stopDemo: (() => Promise<void>) | undefined;
    if (demo) {
      const { startDemoFleet } = await import('./demo.js');
      stopDemo = await startDemoFleet(gw, demo);
      io.stdout.write(`  demo:        ${demo} simulated boards (racket-1..racket-${demo})\n`);
    }

    await stopped;
    await stopDemo?.();
    await gw.close();
    io.stdout.write('closed\n');
    return 0;
  });
}

/** `courtside serve`: run the gateway until Ctrl-C. */
import { LOG_LEVELS } from '../gateway/log.js';
import { defaultExtensions, startGateway, type Gateway } from '../gateway/index.js';
import { discoveryExtension } from '../gateway/discovery/extension.js';
import { GatewayError } from '../gateway/errors.js';
import { VERSION } from '../gateway/version.js';
import { defaultDataDir, DEFAULTS } from '../gateway/options.js';
import { choiceFlag, intFlag, parse, runCommand, UsageError } from './args.js';

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

Environment: COURTSIDE_DISCOVERY=off turns mDNS and the UDP probe off (containers, tests).
  -h, --help             this help
`;

function validHost(h: string): boolean {
  return /^[A-Za-z0-9.:-]{1,253}$/.test(h);
}

export function serveCommand(argv: string[]): Promise<number> {
  return runCommand(async () => {
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
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      process.stdout.write(SERVE_HELP);
      return 0;
    }
    if (values.host !== undefined && !validHost(values.host)) throw new UsageError(`--host must be an address or host name, got '${values.host}'`);
    if (values.db !== undefined && values.db.trim() === '') throw new UsageError('--db must not be empty');
    const port = intFlag('port', values.port, 0, 65535);
    const demo = intFlag('demo', values.demo, 0, 500);
    const deviceAuth = choiceFlag('device-auth', values['device-auth'], ['open', 'token'] as const);
    const logLevel = choiceFlag('log-level', values['log-level'], LOG_LEVELS);
    const probePort = intFlag('udp-probe-port', values['udp-probe-port'], 0, 65535);
    for (const o of values['allow-origin'] ?? []) {
      if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new UsageError(`--allow-origin must look like http://host:port, got '${o}'`);
    }
    const discoveryOff = process.env.COURTSIDE_DISCOVERY === 'off';
    const mdns = !values['no-mdns'] && !discoveryOff;
    const udpProbePort = discoveryOff || probePort === 0 ? false : probePort;
    const extensions = [...defaultExtensions()];
    if (mdns || udpProbePort !== false) extensions.push(discoveryExtension({ interfaces: values['mdns-interface'] ?? [], mdns, udpProbePort }));

    let gw: Gateway;
    try {
      gw = await startGateway({
        host: values.host,
        port,
        db: values.db,
        dataDir: values['data-dir'],
        operatorToken: values['operator-token'],
        deviceAuth,
        logLevel,
        allowedOrigins: values['allow-origin'],
        extensions,
      });
    } catch (err) {
      if (err instanceof GatewayError) {
        process.stderr.write(`courtside: ${err.message}\n`);
        return err.code === 'BAD_OPERATOR_TOKEN' ? 2 : 1;
      }
      throw err;
    }

    // Handlers go in before anything is printed: whoever reads the URL may stop us at once.
    const stopped = new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        process.stdout.write(`\n${signal}: closing (flushing writes)...\n`);
        resolve();
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });

    const urls = gw.context.urls();
    const lines = [
      `Courtside ${VERSION} listening on ${gw.host}:${gw.port} (${gw.store.description})`,
      `  device auth: ${gw.context.options.deviceAuth}`,
      ...urls.board.map((u) => `  boards:      ${u}<device_code>/`),
      ...[...new Set([gw.operatorUrl, ...urls.operator])].map((u) => `  operator:    ${u}`),
    ];
    const disc = gw.context.extensions.find((e) => e.name === 'discovery')?.status?.().discovery as { mdns: number; probe_port: number | null } | undefined;
    lines.push(disc ? `  discovery:   mDNS on ${disc.mdns} interface${disc.mdns === 1 ? '' : 's'}, UDP probe ${disc.probe_port ?? 'off'}` : '  discovery:   off');
    process.stdout.write(lines.join('\n') + '\n');

    let stopDemo: (() => Promise<void>) | undefined;
    if (demo) {
      const { startDemoFleet } = await import('./demo.js');
      stopDemo = await startDemoFleet(gw, demo);
      process.stdout.write(`  demo:        ${demo} simulated boards (racket-1..racket-${demo})\n`);
    }

    await stopped;
    await stopDemo?.();
    await gw.close();
    process.stdout.write('closed\n');
    return 0;
  });
}

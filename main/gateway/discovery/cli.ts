/**
 * `courtside discover [--seconds S] [--json] [--interface X]...`: listens to
 * mDNS for a few seconds and prints the gateways and boards it heard, so a
 * field technician can tell "the board is not on the network" from "the
 * gateway does not see it". Browses only; advertises nothing.
 */
import { BROWSED_SERVICE_TYPES, GATEWAY_SERVICE_TYPE } from '../../../firmware-protocol/discovery.js';
import { systemClock } from '../clock.js';
import { createLogger, silentLogger } from '../log.js';
import type { DiscoveredService } from './browse.js';
import { ServiceBrowser } from './browse.js';
import { LinkWatcher, unmatchedSpec } from './links.js';
import { MdnsPool } from './mdns-pool.js';

export interface DiscoverIo {
  out(text: string): void;
  err(line: string): void;
  /** Waits while listening (tests replace it). */
  wait(ms: number): Promise<void>;
}

const defaultIo: DiscoverIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
  wait: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export const DISCOVER_USAGE = `usage: courtside discover [--seconds S] [--json] [--interface NAME|ADDRESS]...
  --seconds S     listen this long (default 3)
  --json          print a JSON array instead of a table
  --interface X   only this interface (name or IPv4 address); repeatable
  --verbose       log mDNS activity to stderr`;

interface Args {
  seconds: number;
  json: boolean;
  interfaces: string[];
  verbose: boolean;
  help: boolean;
}

export function parseDiscoverArgs(argv: readonly string[]): Args | string {
  const a: Args = { seconds: 3, json: false, interfaces: [], verbose: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const inline = eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--json':
        a.json = true;
        break;
      case '--verbose':
        a.verbose = true;
        break;
      case '-h':
      case '--help':
        a.help = true;
        break;
      case '--seconds': {
        const v = value();
        const n = Number(v);
        if (v === undefined || v === '' || !Number.isFinite(n) || n <= 0 || n > 3600) return `--seconds needs a number of seconds between 0 and 3600, got ${v ?? 'nothing'}`;
        a.seconds = n;
        break;
      }
      case '--interface': {
        const v = value();
        if (!v || v.startsWith('--')) return '--interface needs an interface name or IPv4 address';
        a.interfaces.push(v);
        break;
      }
      default:
        return `unknown option ${raw}`;
    }
  }
  return a;
}

function txtSummary(s: DiscoveredService): string {
  const skip = new Set(['id']);
  return Object.entries(s.txt)
    .filter(([k]) => !skip.has(k))
    .slice(0, 6)
    .map(([k, v]) => (v === '' ? k : `${k}=${v.length > 24 ? v.slice(0, 23) + '…' : v}`))
    .join(' ');
}

export function formatTable(list: readonly DiscoveredService[]): string {
  if (list.length === 0) return 'Nothing found.\n';
  const rows = [
    ['TYPE', 'NAME', 'DEVICE ID', 'ADDRESS', 'PORT', 'INTERFACE', 'TXT'],
    ...list.map((s) => [s.serviceType, s.name, s.deviceId, s.addresses.join(','), String(s.port), s.interface, txtSummary(s)]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

export function toJson(list: readonly DiscoveredService[]): string {
  return JSON.stringify(
    list.map((s) => ({ ...s, firstSeen: new Date(s.firstSeen).toISOString(), lastSeen: new Date(s.lastSeen).toISOString() })),
    null,
    2,
  ) + '\n';
}

export async function discoverCommand(argv: string[], io: DiscoverIo = defaultIo): Promise<number> {
  const args = parseDiscoverArgs(argv);
  if (typeof args === 'string') {
    io.err(`courtside discover: ${args} (see --help)`);
    return 2;
  }
  if (args.help) {
    io.out(DISCOVER_USAGE);
    return 0;
  }
  for (const s of unmatchedSpec(args.interfaces)) io.err(`courtside discover: no interface or address ${s} here`);

  const log = args.verbose ? createLogger('debug', io.err) : silentLogger;
  const clock = systemClock;
  const watcher = new LinkWatcher({ spec: args.interfaces, clock, pollMs: 0 });
  if (watcher.current().length === 0) {
    io.err('courtside discover: no usable IPv4 interface');
    return 1;
  }
  const pool = new MdnsPool(watcher, log);
  await pool.start();
  if (pool.endpoints().length === 0) {
    io.err('courtside discover: could not open mDNS (UDP 5353) on any interface');
    await pool.close();
    return 1;
  }
  const browser = new ServiceBrowser(
    pool,
    // Short runs: ask often, so a lost packet costs a second, not the run.
    { types: [GATEWAY_SERVICE_TYPE, ...BROWSED_SERVICE_TYPES], requeryIntervalMs: 2000, tickMs: 500 },
    clock,
    log,
  );
  browser.start();
  try {
    await io.wait(args.seconds * 1000);
  } finally {
    browser.close();
    await pool.close();
  }
  const list = browser.devices();
  io.out(args.json ? toJson(list) : formatTable(list));
  return 0;
}

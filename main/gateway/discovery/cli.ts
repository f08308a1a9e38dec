/**
 * `courtside discover [--seconds S] [--json] [--interface X]...`: listens to
 * mDNS for a few seconds and prints the gateways and boards it heard, so a
 * field technician can tell "the board is not on the network" from "the
 * gateway does not see it". Browses only; advertises nothing.
 */
import { BROWSED_SERVICE_TYPES, GATEWAY_SERVICE_TYPE } from '../../../firmware-protocol/discovery.js';
import { HELP_OPTION, numberFlag, parse, runCommand, UsageError } from '../../cli/args.js';
import type { CommandIO } from '../../cli/io.js';
import { systemClock } from '../clock.js';
import { createLogger, silentLogger } from '../log.js';
import type { DiscoveredService } from './browse.js';
import { ServiceBrowser } from './browse.js';
import { LinkWatcher, unmatchedSpec } from './links.js';
import { MdnsPool } from './mdns-pool.js';

export const DISCOVER_USAGE = `usage: courtside discover [--seconds S] [--json] [--interface NAME|ADDRESS]...
  --seconds S     listen this long (default 3)
  --json          print a JSON array instead of a table
  --interface X   only this interface (name or IPv4 address); repeatable
  --verbose       log mDNS activity to stderr
`;

export interface DiscoverArgs {
  seconds: number;
  json: boolean;
  interfaces: string[];
  verbose: boolean;
  help: boolean;
}

export function parseDiscoverArgs(argv: string[]): DiscoverArgs {
  const { values } = parse(argv, {
    seconds: { type: 'string' },
    json: { type: 'boolean' },
    interface: { type: 'string', multiple: true },
    verbose: { type: 'boolean' },
    ...HELP_OPTION,
  });
  if (values.interface?.some((x) => x.trim() === '')) throw new UsageError('--interface needs an interface name or IPv4 address');
  return {
    seconds: numberFlag('seconds', values.seconds, { above: 0, max: 3600 }) ?? 3,
    json: values.json ?? false,
    interfaces: values.interface ?? [],
    verbose: values.verbose ?? false,
    help: values.help ?? false,
  };
}

function txtSummary(s: DiscoveredService): string {
  const skip = new Set(['id']);
  return Object.entries(s.txt)
    .filter(([k]) => !skip.has(k))
    .slice(0, 6)
    .map(([k, v]) => (v === '' ? k : `${k}=${v.length > 24 ? v.slice(0, 23) + '…' : v}`))
    .join(' ');
}

/** What a service type is to a field technician: a Courtside gateway, a board, or some other device. */
export function kindOf(serviceType: string): 'gateway' | 'board' | 'other' {
  if (serviceType === GATEWAY_SERVICE_TYPE) return 'gateway';
  return serviceType === '_http._tcp' ? 'other' : 'board';
}

export function formatTable(list: readonly DiscoveredService[]): string {
  if (list.length === 0) return 'Nothing found.\n';
  // One ID column for gateways and boards alike, with KIND saying which it is: a gateway's id is not a device id.
  const rows = [
    ['KIND', 'SERVICE TYPE', 'NAME', 'ID', 'ADDRESS', 'PORT', 'INTERFACE', 'TXT'],
    ...list.map((s) => [kindOf(s.serviceType), s.serviceType, s.name, s.deviceId, s.addresses.join(','), String(s.port), s.interface, txtSummary(s)]),
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

export function discoverCommand(argv: string[], io: CommandIO): Promise<number> {
  return runCommand(io, () => discover(parseDiscoverArgs(argv), io), { prefix: 'courtside discover', seeHelp: true });
}

async function discover(args: DiscoverArgs, io: CommandIO): Promise<number> {
  const err = (line: string) => void io.stderr.write(line + '\n');
  if (args.help) {
    io.stdout.write(DISCOVER_USAGE);
    return 0;
  }
  for (const s of unmatchedSpec(args.interfaces)) err(`courtside discover: no interface or address ${s} here`);

  const log = args.verbose ? createLogger('debug', err) : silentLogger;
  const clock = systemClock;
  const watcher = new LinkWatcher({ spec: args.interfaces, clock, pollMs: 0 });
  if (watcher.current().length === 0) {
    err('courtside discover: no usable IPv4 interface');
    return 1;
  }
  const pool = new MdnsPool(watcher, log);
  await pool.start();
  if (pool.endpoints().length === 0) {
    err('courtside discover: could not open mDNS (UDP 5353) on any interface');
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
    // A plain (ref'd) timer: the clock's are unref'd and would let the process end before the listing.
    await new Promise<void>((resolve) => setTimeout(resolve, args.seconds * 1000));
  } finally {
    browser.close();
    await pool.close();
  }
  const list = browser.devices();
  io.stdout.write(args.json ? toJson(list) : formatTable(list));
  return 0;
}

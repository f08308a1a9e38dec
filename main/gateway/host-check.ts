/**
 * DNS rebinding: a page on some site whose name later resolves to this
 * machine's address would reach the operator API and UI as "same origin",
 * so the Origin check alone lets it through. Its requests carry that site's
 * name in `Host`; the gateway answers only to its own names and addresses:
 * IP literals of this machine, `localhost`, the machine's host name and
 * `<hostname>.local`, the mDNS name discovery advertises, the listen
 * address, the hosts of `--allow-origin` and the names of `--allow-host`
 * (`*` turns the check off, e.g. behind a reverse proxy that rewrites Host).
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { defaultHostName } from './discovery/index.js';
import type { ResolvedOptions } from './options.js';

export type HostOptions = Pick<ResolvedOptions, 'allowedHosts' | 'allowedOrigins' | 'dataDir' | 'host'>;

/** The host of a Host header, lower case, without port, brackets or trailing dot; null if it is no host. */
export function hostOf(header: string): string | null {
  try {
    const u = new URL(`http://${header}`);
    if (u.username || u.password || u.pathname !== '/' || u.search || u.hash) return null;
    return u.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  } catch {
    return null;
  }
}

interface Known {
  names: Set<string>;
  ips: Set<string>;
  /** When they were read (ms); a miss re-reads at most this often, since addresses change with DHCP. */
  at: number;
}

const REFRESH_MS = 2000;
const known = new WeakMap<HostOptions, Known>();

function read(o: HostOptions): Known {
  const names = new Set<string>(['localhost']);
  const machine = hostname().toLowerCase().replace(/\.$/, '');
  if (machine) {
    names.add(machine);
    names.add(`${machine.split('.')[0]}.local`);
  }
  const idFile = join(o.dataDir, 'gateway-id');
  if (existsSync(idFile)) {
    const id = readFileSync(idFile, 'utf8').trim();
    if (id) names.add(defaultHostName(id));
  }
  for (const h of o.allowedHosts) names.add(hostOf(h) ?? h.toLowerCase());
  for (const origin of o.allowedOrigins) {
    try {
      names.add(hostOf(new URL(origin).host) ?? '');
    } catch {
      // Validated at the flag; nothing to add from a value that is no URL.
    }
  }
  const ips = new Set<string>(['::1']);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) ips.add(a.address.replace(/%.*$/, '').toLowerCase());
  const listen = hostOf(o.host);
  if (listen !== null) (isIP(listen) ? ips : names).add(listen);
  return { names, ips, at: Date.now() };
}

/** True if `header` (the request's Host) names this gateway. A request without Host (HTTP/1.0 tools) passes: browsers always send it. */
export function hostAllowed(o: HostOptions, header: string | undefined): boolean {
  if (header === undefined || header === '') return true;
  if (o.allowedHosts.includes('*')) return true;
  const h = hostOf(header);
  if (h === null || h === '') return false;
  const kind = isIP(h);
  if (kind === 4 && h.startsWith('127.')) return true;
  let k = known.get(o);
  if (!k) known.set(o, (k = read(o)));
  const hit = () => (kind ? k!.ips.has(h) : k!.names.has(h));
  if (hit()) return true;
  if (Date.now() - k.at < REFRESH_MS) return false;
  known.set(o, (k = read(o)));
  return hit();
}

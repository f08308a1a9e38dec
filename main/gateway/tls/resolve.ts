/** The certificate `startGateway` serves with, from the `tls` option. */
import { hostname } from 'node:os';
import { defaultHostName } from '../discovery/index.js';
import { gatewayIdFor } from '../discovery/part.js';
import { loadTlsFiles, selfSignedTls, type TlsFiles, type TlsMaterial } from './cert.js';

export interface TlsWhere {
  dataDir: string;
  /** The listen address (0.0.0.0 or :: for all). */
  host: string;
  /** Non-internal IPv4 addresses now. */
  lanAddresses: readonly string[];
  now: number;
}

/** The names a made certificate carries: what browsers and phones on the LAN type or are given. */
export function certificateNames(w: Omit<TlsWhere, 'now'>): { dnsNames: string[]; addresses: string[] } {
  const host = hostname().toLowerCase();
  const dnsNames = [...new Set([defaultHostName(gatewayIdFor(w.dataDir)), host, `${host}.local`, 'localhost'])].filter((n) => /^[a-z0-9.-]+$/.test(n));
  const all = w.host === '0.0.0.0' || w.host === '::';
  const addresses = [...new Set([...(all ? w.lanAddresses : [w.host]), '127.0.0.1', '::1'])];
  return { dnsNames, addresses };
}

export interface ResolvedTls {
  tls: TlsMaterial;
  /** A made certificate was written (first start, or renewal). */
  renewed: boolean;
  /** Names and addresses of now that the kept certificate does not carry. */
  missing: string[];
}

export function resolveTls(option: boolean | TlsFiles | undefined, w: TlsWhere): ResolvedTls | null {
  if (!option) return null;
  if (option !== true) return { tls: loadTlsFiles(option), renewed: false, missing: [] };
  return selfSignedTls({ dataDir: w.dataDir, ...certificateNames(w), now: w.now });
}

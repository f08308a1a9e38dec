/**
 * The gateway's TLS certificate: the operator's own (`--tls-cert`/`--tls-key`)
 * or one made here and kept in the data folder (`tls-key.pem` 0600,
 * `tls-cert.pem`). Boards and phones pin its SHA-256 fingerprint (of the DER
 * certificate), so a made certificate is kept as long as it is valid and
 * renewed only when it nears its end; the key is kept across renewals, so a
 * client pinning the public key survives one.
 *
 * The key comes from Node's crypto; the certificate is signed by the openssl
 * command. Node can parse certificates but not write them, and no library on
 * the project's list does; X.509 DER written by hand would be the kind of
 * code a mistake in goes unseen until a phone refuses it.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { gatewayError } from '../errors.js';

/** Days a made certificate is valid: the most Apple's platforms accept for a server certificate. */
export const CERT_VALID_DAYS = 825;
/** A made certificate with less left than this is replaced at start (and by the daily check). */
export const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 of the DER certificate, 64 lower-case hex digits (URLs, mDNS TXT, NVS). */
  fingerprint: string;
  /** The same as browsers show it: `AB:CD:...`. */
  fingerprintColons: string;
  /** End of validity, ms since the epoch. */
  notAfter: number;
  /** `generated` (kept in the data folder) or `files` (the operator's own). */
  source: 'generated' | 'files';
  certFile: string;
  /** DNS names and IP addresses the certificate names. */
  names: string[];
}

export const CERT_FILE = 'tls-cert.pem';
export const KEY_FILE = 'tls-key.pem';

/** One spelling per name: lower case, IPv6 compressed (X.509 text gives `0:0:0:0:0:0:0:1`). */
export function canonicalName(n: string): string {
  const s = n.trim().toLowerCase();
  return isIP(s) === 6 ? new URL(`http://[${s}]`).hostname.slice(1, -1) : s;
}

/** `AB:CD:..` (X509Certificate#fingerprint256) -> `abcd..`. */
export function hexFingerprint(colons: string): string {
  return colons.replace(/:/g, '').toLowerCase();
}

function material(cert: string, key: string, source: TlsMaterial['source'], certFile: string): TlsMaterial {
  const x = new X509Certificate(cert);
  if (!x.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not belong to the certificate');
  const names = (x.subjectAltName ?? '')
    .split(/,\s*/)
    .map((n) => canonicalName(n.replace(/^(DNS|IP Address):/, '')))
    .filter(Boolean);
  return { cert, key, fingerprint: hexFingerprint(x.fingerprint256), fingerprintColons: x.fingerprint256, notAfter: Date.parse(x.validTo), source, certFile, names };
}

/** The operator's own certificate and key. */
export function loadTlsFiles(files: TlsFiles): TlsMaterial {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(files.certFile, 'utf8');
    key = readFileSync(files.keyFile, 'utf8');
  } catch (err) {
    throw gatewayError('TLS_FILES_UNREADABLE', (err as Error).message);
  }
  try {
    return material(cert, key, 'files', files.certFile);
  } catch (err) {
    throw gatewayError('TLS_FILES_INVALID', (err as Error).message);
  }
}

function makeKey(file: string): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(file, pem, { mode: 0o600 });
  chmodSync(file, 0o600);
  return pem;
}

function sign(keyFile: string, certFile: string, commonName: string, names: readonly string[]): void {
  const san = names.map((n) => (isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  const tmp = `${certFile}.new`;
  execFileSync(
    'openssl',
    [
      'req', '-x509', '-new', '-key', keyFile, '-sha256', '-days', String(CERT_VALID_DAYS), '-subj', `/CN=${commonName}`,
      '-addext', `subjectAltName=${san}`,
      // A leaf, not a CA: browsers refuse a CA certificate as a server's.
      '-addext', 'basicConstraints=critical,CA:FALSE',
      '-addext', 'keyUsage=critical,digitalSignature',
      '-addext', 'extendedKeyUsage=serverAuth',
      '-out', tmp,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 },
  );
  renameSync(tmp, certFile);
}

export interface SelfSignedRequest {
  dataDir: string;
  /** DNS names the certificate names (host name, `<host>.local`, the mDNS name, localhost). */
  dnsNames: readonly string[];
  /** IP addresses (the LAN addresses at the time, loopback). */
  addresses: readonly string[];
  now: number;
}

/**
 * The certificate in the data folder, made if absent, unreadable or within
 * RENEW_BEFORE_MS of its end. A LAN address the certificate does not name
 * does not replace it: that would change the fingerprint every board pinned
 * each time DHCP moves the gateway; browsers can use the `.local` name.
 */
export function selfSignedTls(req: SelfSignedRequest): { tls: TlsMaterial; renewed: boolean; missing: string[] } {
  const keyFile = join(req.dataDir, KEY_FILE);
  const certFile = join(req.dataDir, CERT_FILE);
  const names = [...new Set([...req.dnsNames, ...req.addresses].map(canonicalName))];
  let key: string | null = null;
  try {
    if (existsSync(keyFile)) {
      key = readFileSync(keyFile, 'utf8');
      createPrivateKey(key);
      chmodSync(keyFile, 0o600);
    }
  } catch {
    key = null;
  }
  if (key !== null && existsSync(certFile)) {
    try {
      const kept = material(readFileSync(certFile, 'utf8'), key, 'generated', certFile);
      if (kept.notAfter - req.now > RENEW_BEFORE_MS) {
        const missing = names.filter((n) => !kept.names.includes(n));
        return { tls: kept, renewed: false, missing };
      }
    } catch {
      /* unreadable or another key's: made again below */
    }
  }
  try {
    key ??= makeKey(keyFile);
    sign(keyFile, certFile, req.dnsNames[0] ?? 'courtside', names);
    return { tls: material(readFileSync(certFile, 'utf8'), key, 'generated', certFile), renewed: true, missing: [] };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    const detail = e.code === 'ENOENT' ? 'the openssl command is not installed (apt-get install openssl), or use --tls-cert and --tls-key' : (e.stderr?.toString().trim().split('\n')[0] ?? e.message);
    throw gatewayError('TLS_CERT_FAILED', detail);
  }
}

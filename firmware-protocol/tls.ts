/**
 * How clients pin the gateway's TLS certificate (`serve --tls`): by the
 * SHA-256 of its DER encoding, written as 64 lower-case hex digits in the
 * URLs, the mDNS TXT record, the probe answer and the board's NVS config.
 * Pure: constants and one function.
 */

/** Query parameter carrying the fingerprint in the URLs the gateway prints and shows as QR codes. */
export const FINGERPRINT_PARAM = 'sha256';

/** `AB:CD:...` or `abcd...` -> `abcd...` (64 hex digits); null if it is not a SHA-256 fingerprint. */
export function normalizeFingerprint(s: string): string | null {
  const hex = s.trim().replace(/:/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : null;
}

/**
 * The desktop app's gateway, without Electron: the settings file in the app's
 * data folder, the standard parts (discovery on by default, as with
 * `courtside serve`). Kept apart from main.ts so a test can start exactly
 * what the app starts, with no Electron binary.
 */
import { X509Certificate } from 'node:crypto';
import { startGateway, type Gateway, type GatewayOptions } from '../gateway/index.js';
import { launchOptions } from '../gateway/launch.js';
import { tuneHeapForStreaming } from '../gateway/heap.js';
import { normalizeFingerprint } from '../../firmware-protocol/tls.js';

/**
 * TLS is on unless the settings file says `"tls": false`: the app is what a club installs on
 * the laptop that tablets, phones and boards on the shared Wi-Fi reach, and there the operator
 * token must not cross the air in clear text. An operator whose boards cannot pin a certificate
 * turns it off in the Settings view.
 */
export function desktopGatewayOptions(userDataDir: string, extra: Pick<GatewayOptions, 'logger' | 'env'> = {}): GatewayOptions {
  const o = launchOptions({ dataDir: userDataDir });
  return { ...o, tls: o.tls ?? true, ...extra };
}

/**
 * Whether a certificate Chromium shows the app (PEM) is the gateway's own: the window trusts
 * it by its fingerprint, as boards do, and leaves every other certificate to Chromium.
 */
export function isGatewayCertificate(pem: string, fingerprint: string | null): boolean {
  if (!fingerprint) return false;
  try {
    return normalizeFingerprint(new X509Certificate(pem).fingerprint256) === normalizeFingerprint(fingerprint);
  } catch {
    return false;
  }
}

export function startDesktopGateway(userDataDir: string, extra: Pick<GatewayOptions, 'logger' | 'env'> = {}): Promise<Gateway> {
  // The same heap settings as `courtside serve`: the app's main process is the gateway's.
  tuneHeapForStreaming();
  return startGateway(desktopGatewayOptions(userDataDir, extra));
}

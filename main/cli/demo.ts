/** `serve --demo N`: simulated boards in the same process, with tokens minted when device auth is on. */
import type { Gateway } from '../gateway/index.js';
import { startFleet } from '../simulator/fleet.js';

export async function startDemoFleet(gw: Gateway, devices: number): Promise<() => Promise<void>> {
  const tokens = new Map<string, string>();
  if (gw.core.options.deviceAuth === 'token') {
    for (let i = 1; i <= devices; i++) tokens.set(`racket-${i}`, await gw.core.tokens.mint(`racket-${i}`, 'demo'));
  }
  const fleet = startFleet({
    url: gw.url,
    // Over wss:// the demo boards pin the gateway's certificate, as provisioned boards do.
    ...(gw.fingerprint ? { fingerprint: gw.fingerprint } : {}),
    devices,
    rateHz: 100,
    mode: 'batch',
    streamAlways: true,
    tokenFor: (code) => tokens.get(code),
  });
  return () => fleet.stop();
}

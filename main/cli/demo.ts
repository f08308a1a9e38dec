/** `serve --demo N`: simulated boards in the same process, with tokens minted when device auth is on. */
import type { Gateway } from '../gateway/index.js';
import { startFleet } from '../simulator/fleet.js';
import type { parseOtaFailSpec } from '../simulator/ota.js';

export type OtaFailSpec = Exclude<ReturnType<typeof parseOtaFailSpec>, string>;

/** `otaFail`: how demo boards fail ota_update, by board (from `--demo-ota-fail`). The demo boards run 1.2.0 until updated. */
export async function startDemoFleet(gw: Gateway, devices: number, otaFail?: OtaFailSpec): Promise<() => Promise<void>> {
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
    otaFor: (code) => {
      const fail = otaFail?.byBoard.get(code) ?? otaFail?.all ?? undefined;
      return fail ? { fail } : undefined;
    },
  });
  return () => fleet.stop();
}

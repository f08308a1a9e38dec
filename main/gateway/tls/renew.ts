/**
 * The daily check of a made certificate while the gateway runs: near its end
 * it is replaced (the same key), served to new connections, and handed to
 * every part that advertises or serves it (discovery's TXT and probe answers,
 * the OTA port), then to listeners such as `serve`'s banner.
 */
import type { Clock } from '../clock.js';
import { errorText } from '../errors.js';
import type { Logger } from '../log.js';
import type { ResolvedOptions } from '../options.js';
import type { GatewayPart } from '../parts.js';
import type { TlsMaterial } from './cert.js';
import { resolveTls } from './resolve.js';

/** How often a made certificate's remaining validity is checked while running. */
export const RENEW_CHECK_MS = 24 * 3600 * 1000;

export interface RenewalDeps {
  /** Its `tls` is replaced on renewal: what builds URLs reads it from there. */
  opts: ResolvedOptions;
  server: { setCertificate(t: TlsMaterial): void };
  parts: readonly GatewayPart[];
  log: Logger;
  clock: Clock;
  lanAddresses: () => string[];
}

export interface Renewal {
  onRenewed(fn: (tls: TlsMaterial) => void): () => void;
  stop(): void;
}

export function startRenewal(d: RenewalDeps): Renewal {
  const listeners = new Set<(tls: TlsMaterial) => void>();
  const check = () => {
    let tls: TlsMaterial;
    try {
      const r = resolveTls(true, { ...d.opts, lanAddresses: d.lanAddresses(), now: d.clock.now() });
      if (!r?.renewed) return;
      tls = r.tls;
      d.opts.tls = tls;
      d.server.setCertificate(tls);
    } catch (err) {
      d.log.warn('tls certificate renewal failed', { error: errorText(err) });
      return;
    }
    d.log.warn('tls certificate renewed: boards and phones pinning the old fingerprint need the new one', { sha256: tls.fingerprintColons, valid_until: new Date(tls.notAfter).toISOString() });
    for (const p of d.parts) {
      try {
        p.certificateRenewed?.(tls);
      } catch (err) {
        d.log.warn('part did not take the renewed certificate', { part: p.name, error: errorText(err) });
      }
    }
    for (const fn of listeners) fn(tls);
  };
  // Only a made certificate is renewed here; the operator's own is the operator's to replace.
  const timer = d.opts.tls?.source === 'generated' ? d.clock.setInterval(check, RENEW_CHECK_MS) : undefined;
  return {
    onRenewed(fn) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    stop: () => d.clock.clear(timer),
  };
}

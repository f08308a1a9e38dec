/**
 * UDP probe responder: the fallback for networks that drop multicast (guest
 * Wi-Fi, some mesh systems). A board broadcasts a `courtside_probe`; the
 * gateway answers it unicast with the URL on the interface the probe came in
 * on, so a multi-homed gateway never hands a board an address it cannot reach.
 *
 * Node does not say which interface a datagram arrived on, so the sender's
 * subnet decides; a sender on no local subnet (routed, or link-local) gets the
 * address the kernel would use to reach it.
 */
import dgram from 'node:dgram';
import {
  PROBE_MAX_BYTES,
  gatewayBaseUrl,
  parseProbe,
  probeAnswerFrame,
  type DeviceAuth,
  type ProbeAnswerFrame,
} from '../../../firmware-protocol/discovery.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { isIpv4, linkFor, type Link } from './links.js';

/** Per-source token buckets, so a chatty or spoofed sender cannot turn the gateway into a UDP amplifier. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly clock: Clock,
    /** Tokens a quiet sender starts with. */
    private readonly burst: number,
    private readonly perSecond: number,
    /** Sources remembered at most; the longest-idle is forgotten first. */
    private readonly maxSources = 4096,
  ) {}

  take(source: string): boolean {
    const now = this.clock.now();
    let b = this.buckets.get(source);
    if (b) {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
      b.at = now;
      // Re-inserted so Map order is least-recently-seen first.
      this.buckets.delete(source);
    } else {
      b = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.maxSources) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(source, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }
}

export interface ProbeStats {
  /** Datagrams received. */
  received: number;
  answered: number;
  /** Not a well-formed probe (size, JSON, schema). */
  malformed: number;
  rateLimited: number;
  /** Well-formed, but from outside the chosen interfaces or from an unusable source. */
  ignored: number;
}

export interface ProbeContext {
  gatewayId: string;
  /** The gateway's HTTP/WebSocket port, put into the URLs. */
  port: number;
  boardPath: string;
  auth: DeviceAuth;
  /** With TLS: the certificate's SHA-256; the URLs are then wss://. */
  certSha256?: string | null;
  /** Links currently selected. */
  links(): readonly Link[];
  /** True when the operator chose interfaces: probes from elsewhere are not answered. */
  explicit: boolean;
  buckets: TokenBuckets;
}

export type ProbeDecision =
  | { kind: 'answer'; frame: ProbeAnswerFrame; deviceId: string }
  | { kind: 'route'; deviceId: string }
  | { kind: 'malformed'; error: string }
  | { kind: 'rate-limited' }
  | { kind: 'ignored'; why: string };

/** What to do with one datagram; `route` means "answer with the address the kernel routes to the sender from". */
export function decideProbe(msg: Uint8Array, from: { address: string; port: number }, ctx: ProbeContext): ProbeDecision {
  if (msg.byteLength > PROBE_MAX_BYTES) return { kind: 'malformed', error: 'too large' };
  const parsed = parseProbe(Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength).toString('utf8'));
  if (!parsed.ok) return { kind: 'malformed', error: parsed.error };
  if (!isIpv4(from.address) || from.address === '0.0.0.0' || from.port === 0) return { kind: 'ignored', why: 'unusable source' };
  const hit = linkFor(ctx.links(), from.address);
  if (!hit && ctx.explicit) return { kind: 'ignored', why: 'not on a chosen interface' };
  if (!ctx.buckets.take(from.address)) return { kind: 'rate-limited' };
  if (!hit) return { kind: 'route', deviceId: parsed.value.device_id };
  const addrs = [hit.address.address, ...hit.link.addresses.map((a) => a.address).filter((a) => a !== hit.address.address)];
  return { kind: 'answer', deviceId: parsed.value.device_id, frame: answerFor(addrs, ctx) };
}

export function answerFor(addresses: string[], ctx: Pick<ProbeContext, 'gatewayId' | 'port' | 'boardPath' | 'auth'> & { certSha256?: string | null }): ProbeAnswerFrame {
  return probeAnswerFrame({
    gatewayId: ctx.gatewayId,
    urls: addresses.slice(0, 8).map((a) => gatewayBaseUrl(a, ctx.port, ctx.certSha256 ? 'wss' : 'ws')),
    boardPath: ctx.boardPath,
    auth: ctx.auth,
    certSha256: ctx.certSha256 ?? null,
  });
}

/** The local address the kernel would send from to reach `ip`; connect() on UDP sends nothing. */
export function routeSource(ip: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const done = (v: string | null) => {
      s.close();
      resolve(v);
    };
    s.on('error', () => done(null));
    s.connect(port, ip, () => {
      try {
        done(s.address().address);
      } catch {
        done(null);
      }
    });
  });
}

export interface ProbeResponderOptions extends Omit<ProbeContext, 'buckets'> {
  /** UDP port to listen on. */
  probePort: number;
  /** Address to bind; broadcasts only reach a socket bound to 0.0.0.0. */
  bind: string;
  clock: Clock;
  burst: number;
  perSecond: number;
  log: Logger;
}

export interface ProbeResponder {
  readonly port: number;
  stats(): ProbeStats;
  /** A renewed certificate: answers from now on carry its fingerprint. */
  setCertSha256(sha: string | null): void;
  close(): Promise<void>;
}

export async function startProbeResponder(o: ProbeResponderOptions): Promise<ProbeResponder> {
  const stats: ProbeStats = { received: 0, answered: 0, malformed: 0, rateLimited: 0, ignored: 0 };
  const ctx: ProbeContext = { ...o, buckets: new TokenBuckets(o.clock, o.burst, o.perSecond) };
  const socket = dgram.createSocket('udp4');
  const send = (frame: ProbeAnswerFrame, to: { address: string; port: number }, deviceId: string) => {
    const buf = Buffer.from(JSON.stringify(frame));
    socket.send(buf, to.port, to.address, (err) => {
      if (err) o.log.debug('probe: answer failed', { to: to.address, err: err.message });
    });
    stats.answered++;
    o.log.debug('probe: answered', { device: deviceId, from: to.address, url: frame.urls[0] });
  };

  socket.on('message', (msg, rinfo) => {
    stats.received++;
    const d = decideProbe(msg, rinfo, ctx);
    switch (d.kind) {
      case 'answer':
        return send(d.frame, rinfo, d.deviceId);
      case 'route':
        void routeSource(rinfo.address, rinfo.port).then((local) => {
          if (local && local !== '0.0.0.0') send(answerFor([local], ctx), rinfo, d.deviceId);
          else stats.ignored++;
        });
        return;
      case 'malformed':
        stats.malformed++;
        return;
      case 'rate-limited':
        stats.rateLimited++;
        return;
      case 'ignored':
        stats.ignored++;
        return;
    }
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(o.probePort, o.bind, () => {
      socket.removeListener('error', reject);
      resolve();
    });
  });
  socket.on('error', (err) => o.log.warn('probe socket error', { err: err.message }));
  o.log.info('probe: listening', { port: socket.address().port });

  let closed: Promise<void> | undefined;
  return {
    port: socket.address().port,
    stats: () => ({ ...stats }),
    setCertSha256: (sha) => void (ctx.certSha256 = sha),
    close: () => (closed ??= new Promise<void>((resolve) => socket.close(() => resolve()))),
  };
}

/**
 * A connection as handlers, middleware and events see it (ConnectionInfo), and what it is made
 * from until then. Most board sockets are never asked about: the info object with its metadata,
 * id string and boxed time is about 200 bytes a board, so a socket holds a seed of its parts
 * and the info is made the first time it is read (a handler, an event, `connections()`), then
 * kept: every later reader gets the same object. Sockets of a gateway with connection
 * middleware get theirs before the upgrade, as always.
 */
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../clock.js';
import { fromLoad, sinceLoad } from '../epoch.js';
import type { EndpointName, Peer } from '../peer.js';

/** One connection as handlers, middleware and events see it. */
export interface ConnectionInfo {
  readonly id: string;
  readonly endpoint: EndpointName;
  readonly ip: string;
  /** The upgrade's path, without the query (which may carry a token). */
  readonly path: string;
  readonly userAgent: string | null;
  readonly origin: string | null;
  /** ms since epoch, the gateway's clock. */
  readonly connectedAt: number;
  /** Set by `init` on /ws, or by connection middleware. */
  sessionId: string | null;
  userId: string | null;
  /** What connection middleware returned, merged. */
  readonly metadata: Record<string, unknown>;
}

/** What a connection's info is made from the first time it is read (Peer.info). */
export abstract class LazyInfo {
  abstract make(peer: Peer): ConnectionInfo;
}

let seq = 0;

/** The process's counter for connection and message ids. */
export function nextSeq(): number {
  return ++seq;
}

/** A connection's parts; its time ms since load (epoch.ts), kept in the object itself. */
abstract class InfoSeed extends LazyInfo {
  /** Its gateway's, on the prototype of that gateway's own seed class (not a field of each). */
  declare readonly infos: ConnectionInfos;
  constructor(
    readonly seq: number,
    readonly at: number,
    readonly path: string,
    readonly userAgent: string | null,
    readonly origin: string | null,
  ) {
    super();
  }

  make(peer: Peer): ConnectionInfo {
    return this.infos.info(this, peer.endpoint, peer.ip);
  }
}

type SeedClass = new (seq: number, at: number, path: string, userAgent: string | null, origin: string | null) => InfoSeed;

/** One gateway's connection infos: ids `${prefix}-${n}`, keyed by n. */
export class ConnectionInfos {
  private readonly Seed: SeedClass;

  constructor(
    readonly prefix: string,
    private readonly clock: Clock,
  ) {
    const Seed = class extends InfoSeed {};
    Object.defineProperty(Seed.prototype, 'infos', { value: this });
    this.Seed = Seed;
  }

  /** What the connection's info is made from when first read. */
  seed(req: IncomingMessage, path: string): InfoSeed {
    const ua = req.headers['user-agent'];
    return new this.Seed(nextSeq(), sinceLoad(this.clock.now()), path, typeof ua === 'string' ? ua : null, typeof req.headers.origin === 'string' ? req.headers.origin : null);
  }

  /** The info a seed describes. */
  info(s: InfoSeed, endpoint: EndpointName, ip: string): ConnectionInfo {
    return {
      // One flat string, not the pieces it was joined from (kept for the connection's life).
      id: Buffer.from(`${this.prefix}-${s.seq.toString(36)}`, 'latin1').toString('latin1'),
      endpoint,
      ip,
      path: s.path,
      userAgent: s.userAgent,
      origin: s.origin,
      connectedAt: fromLoad(s.at),
      sessionId: null,
      userId: null,
      metadata: {},
    };
  }

  /** A connection's key among the live ones (the number in its id), from its info or its seed; null: not this gateway's. */
  keyOf(held: ConnectionInfo | LazyInfo): number | null {
    return held instanceof InfoSeed ? held.seq : this.seqOf((held as ConnectionInfo).id);
  }

  /** The number in a connection id of this gateway, or null. */
  seqOf(id: string): number | null {
    if (typeof id !== 'string' || !id.startsWith(`${this.prefix}-`)) return null;
    const tail = id.slice(this.prefix.length + 1);
    const n = parseInt(tail, 36);
    return Number.isSafeInteger(n) && n.toString(36) === tail ? n : null;
  }
}

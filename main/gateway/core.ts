/**
 * The core of the gateway: the hubs, built in dependency order from the base
 * services, each given exactly what it uses. Parts (sessions, USB,
 * discovery) are made from the finished core; nothing is filled in later.
 */
import type { Base } from './base.js';
import type { GatewayPart } from './parts.js';
import { RoomHub } from './rooms.js';
import { SignalHub } from './signaling.js';
import { BoardHub } from './boards.js';
import { CommandQueue } from './commands.js';
import { UserHub } from './users.js';
import { OperatorHub } from './operators.js';
import { createDeviceToken, deviceTokenOk, type JwtCheck } from './auth.js';
import { Paths } from '../../firmware-protocol/index.js';
import { FINGERPRINT_PARAM } from '../../firmware-protocol/tls.js';
import type { FleetLink } from './fleet/link.js';
import { Platform } from './platform/platform.js';
import { RecentSamples } from './recent-samples.js';

/** Device tokens as parts use them: the store keeps only hashes. */
export interface DeviceTokens {
  /** Mints a token for a device and returns it (shown once). */
  mint(deviceId: string, label: string | null): Promise<string>;
  /** Revokes every token of a device; resolves the number revoked. */
  revoke(deviceId: string): Promise<number>;
  /** Device ids that hold an unrevoked token. */
  holders(): Promise<Set<string>>;
  /**
   * Whether `token` admits `deviceId` (always in open mode): its minted token, or a JWT whose
   * `sub` is `subject` (the id as the client names itself; players: the user id without `user:`).
   */
  check(deviceId: string, token: string | null | undefined, subject?: string): Promise<boolean>;
}

export interface Core extends Base {
  readonly operators: OperatorHub;
  readonly rooms: RoomHub;
  readonly signaling: SignalHub;
  readonly boards: BoardHub;
  readonly commands: CommandQueue;
  readonly users: UserHub;
  readonly tokens: DeviceTokens;
  /** Handlers, middleware, events and the health figures of an embedding application (embed.ts). */
  readonly platform: Platform;
  /** Public (LAN) addresses the gateway answers on, for printed URLs and discovery. */
  urls(): { board: string[]; operator: string[] };
  /** The fleet this gateway is part of (`--redis`); null on its own. */
  readonly fleet: FleetLink | null;
  /** The addresses boards are told to use (provisioning, discovery), each with its interface. */
  addresses(): BoardAddress[];
  /** Every board's last minutes of samples, for the Live view's backfill. */
  readonly recent: RecentSamples;
}

/** An address the gateway listens on, as provisioning offers it to a board. */
export interface BoardAddress {
  address: string;
  /** The interface it belongs to; null when no interface has it (a host name). */
  interface: string | null;
  /** Only this machine reaches it: a board given it could never connect. */
  loopback: boolean;
}

/** Makes a part from the finished core. */
export type PartFactory = (core: Core) => GatewayPart | Promise<GatewayPart>;

/** Close code of a socket whose device token was revoked (PROTOCOL.md, close codes). */
export const TOKEN_REVOKED_CLOSE = 4403;

/**
 * With a fleet, each hub gets its cross-gateway hook; without one it gets none and runs as a
 * single gateway always did. `jwt` checks JWTs beside minted device tokens (null: none configured).
 */
export function createCore(
  base: Base,
  where: { hosts: () => string[]; port: () => number; addresses: () => BoardAddress[] },
  fleet: FleetLink | null = null,
  jwt: JwtCheck | null = null,
  platform: Platform = new Platform(base.clock),
): Core {
  const operators = new OperatorHub({ ...base, fleet: fleet?.operators });
  const boards = new BoardHub({ ...base, operators, fleet: fleet?.boards });
  const rooms = new RoomHub({ ...base, operators, fleet: fleet?.rooms });
  const signaling = new SignalHub({ ...base, operators, fleet: fleet?.signaling });
  const users = new UserHub({ ...base, operators, fleet: fleet?.users });
  const tokens: DeviceTokens = {
    mint: (deviceId, label) => createDeviceToken(base, deviceId, label),
    async revoke(deviceId) {
      const n = await base.store.revokeDeviceTokens(deviceId, new Date(base.clock.now()));
      // A token is checked only when a socket opens: without this, a revoked board kept
      // streaming until it reconnected. In open mode no socket was admitted by a token,
      // and a closed one would reconnect without one at once, so revoking closes nothing.
      if (base.options.deviceAuth === 'token') {
        const why = 'device token revoked';
        const user = /^user:(.+)$/.exec(deviceId)?.[1];
        if (user !== undefined) users.closeUser(user, TOKEN_REVOKED_CLOSE, why);
        else {
          boards.closeDevice(deviceId, TOKEN_REVOKED_CLOSE, why);
          rooms.closeDevice(deviceId, TOKEN_REVOKED_CLOSE, why);
          signaling.closeClient(deviceId, TOKEN_REVOKED_CLOSE, why);
        }
      }
      return n;
    },
    check: (deviceId, token, subject) => deviceTokenOk({ ...base, jwt }, deviceId, token, subject),
    holders: async () => new Set((await base.store.listDeviceTokens()).filter((t) => t.revokedAt === null).map((t) => t.deviceId)),
  };
  return {
    ...base,
    operators,
    rooms,
    signaling,
    boards,
    commands: new CommandQueue({ ...base, operators, boards, fleet: fleet?.commands }),
    users,
    tokens,
    fleet,
    platform,
    addresses: () => where.addresses(),
    recent: new RecentSamples(() => base.clock.now()),
    urls() {
      const port = where.port();
      const hs = where.hosts();
      // With TLS the operator URLs (and the QR codes made of them) carry the fingerprint to pin.
      const tls = base.options.tls;
      const fp = tls ? `&${FINGERPRINT_PARAM}=${tls.fingerprint}` : '';
      return {
        board: hs.map((h) => `${tls ? 'wss' : 'ws'}://${h}:${port}${Paths.board}`),
        operator: hs.map((h) => `${tls ? 'https' : 'http'}://${h}:${port}/?token=${base.options.operatorToken}${fp}`),
      };
    },
  };
}

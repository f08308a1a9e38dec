/** Endpoint `/ws/miniprogram/{user_id}/`: a player's app. */
import { FrameParser, UserFrames } from '../../../firmware-protocol/index.js';
import type { Base } from '../base.js';
import { userAddress, type UserHub } from '../users.js';
import type { PartHooks } from '../parts.js';
import type { Peer } from '../peer.js';
import { handleFrames, type Intake } from './frames.js';

/** What the player endpoint uses. */
export type UserEndpointDeps = Intake & Pick<Base, 'clock'> & { readonly users: UserHub };

const parser = new FrameParser(UserFrames);

/** Answers session_status: the sessions part's hook. */
export type SessionStatusProvider = NonNullable<PartHooks['sessionStatus']>;

export function attachUser(ctx: UserEndpointDeps, peer: Peer, userId: string, sessionStatus: SessionStatusProvider): void {
  ctx.users.add(userId, peer);
  peer.send({ type: 'connection_established', user_id: userId, server_time: ctx.clock.now() });
  ctx.users.deliverQueued(userId, peer).catch((err: unknown) => {
    ctx.metrics.storeErrors++;
    ctx.log.warn('could not deliver queued notifications', { user_id: userId, error: String(err) });
  });

  handleFrames(ctx, peer, async (text) => {
    const p = parser.parse(text);
    if (!p.ok) return peer.refuse(p.error, text);
    const f = p.frame;
    if (f.type === 'ping') return peer.send({ type: 'pong', server_time: ctx.clock.now() });
    if (f.type === 'notification_ack') {
      if (!ctx.users.acks.ack(f.message_id, userAddress(userId))) peer.error('NOT_FOUND', `no notification ${f.message_id} waits for an ack from '${userId}'`);
      return;
    }
    const session = await sessionStatus(userId, f.session_id);
    peer.send({ type: 'session_status', user_id: userId, session });
  });

  peer.ws.on('close', () => ctx.users.remove(userId, peer));
}

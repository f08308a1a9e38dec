/** Endpoint `/ws/admin/`: operators (the UI). The token and Origin were checked at the upgrade. */
import type { Base } from '../base.js';
import type { Dispatcher } from '../dispatch.js';
import type { OperatorHub } from '../operators.js';
import type { Peer } from '../peer.js';
import { handleFrames, type Intake } from './frames.js';

/** What the operator endpoint uses: every request goes through the one dispatcher. */
export type OperatorEndpointDeps = Intake & Pick<Base, 'clock'> & { readonly operators: OperatorHub; readonly dispatcher: Dispatcher };

export function attachOperator(ctx: OperatorEndpointDeps, peer: Peer): void {
  ctx.operators.add(peer);
  peer.send({ type: 'connection_established', role: 'operator', server_time: ctx.clock.now() });
  handleFrames(ctx, peer, (text) => ctx.dispatcher.frame(text, peer));
  peer.ws.on('close', () => ctx.operators.remove(peer));
}

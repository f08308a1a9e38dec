/** The signaling protocol: WebRTC signaling by client id. Nothing here is stored: signals are ephemeral. */
import type { Base, EventPublisher } from './base.js';
import type { Peer } from './peer.js';

export class SignalHub {
  private readonly clients = new Map<string, Peer>();

  constructor(private readonly ctx: Pick<Base, 'metrics'> & { readonly operators: EventPublisher }) {}

  register(clientId: string, peer: Peer): void {
    const old = this.clients.get(clientId);
    if (old && old !== peer) old.close(4000, 'replaced by a newer connection with the same client_id');
    this.clients.set(clientId, peer);
    this.ctx.operators.publish('rooms', { event: 'signal_register', client_id: clientId });
  }

  unregister(clientId: string, peer: Peer): void {
    if (this.clients.get(clientId) !== peer) return;
    this.clients.delete(clientId);
    this.ctx.operators.publish('rooms', { event: 'signal_unregister', client_id: clientId });
  }

  /** Closes the signaling client's socket, if registered (its close handler then unregisters it). */
  closeClient(clientId: string, code: number, reason: string): boolean {
    const p = this.clients.get(clientId);
    p?.close(code, reason);
    return p !== undefined;
  }

  count(): number {
    return this.clients.size;
  }

  ids(): string[] {
    return [...this.clients.keys()];
  }

  /**
   * Forwards a frame: to `target_id` with target_id removed and `from` added,
   * or without a target to every other registered client. Returns how many got it,
   * or -1 when the target is not connected.
   */
  relay(fromId: string, frame: Record<string, unknown>): number {
    const { target_id: target, ...rest } = frame;
    const text = JSON.stringify({ ...rest, from: fromId });
    this.ctx.metrics.signalsRelayed++;
    if (typeof target === 'string' && target !== '') {
      const peer = this.clients.get(target);
      if (!peer) return -1;
      peer.sendText(text);
      return 1;
    }
    let n = 0;
    for (const [id, peer] of this.clients) {
      if (id === fromId) continue;
      peer.sendText(text);
      n++;
    }
    return n;
  }
}

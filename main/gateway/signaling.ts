/** The signaling protocol: WebRTC signaling by client id. Nothing here is stored: signals are ephemeral. */
import type { Base, EventPublisher } from './base.js';
import type { Peer } from './peer.js';
import type { SignalFleet } from './fleet/hooks.js';

export class SignalHub {
  private readonly clients = new Map<string, Peer>();
  /** Clients that asked for fleet_gap frames: any other frame without `from` is not what a signaling client expects. */
  private readonly gapWanted = new WeakSet<Peer>();

  constructor(private readonly ctx: Pick<Base, 'metrics'> & { readonly operators: EventPublisher; readonly fleet?: SignalFleet }) {}

  register(clientId: string, peer: Peer, fleetGap = false): void {
    if (fleetGap) this.gapWanted.add(peer);
    const old = this.clients.get(clientId);
    if (old && old !== peer) old.close(4000, 'replaced by a newer connection with the same client_id');
    this.clients.set(clientId, peer);
    this.ctx.fleet?.registered(clientId);
    this.ctx.operators.publish('rooms', { event: 'signal_register', client_id: clientId });
  }

  unregister(clientId: string, peer: Peer): void {
    if (this.clients.get(clientId) !== peer) return;
    this.clients.delete(clientId);
    this.ctx.fleet?.unregistered(clientId);
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
    const mine = [...this.clients.keys()];
    return this.ctx.fleet ? [...mine, ...this.ctx.fleet.remoteIds().filter((id) => !this.clients.has(id))] : mine;
  }

  /** To the clients of this gateway that asked for fleet_gap frames; returns how many. */
  gapNotice(text: string): number {
    let n = 0;
    for (const peer of this.clients.values()) {
      if (!this.gapWanted.has(peer)) continue;
      peer.sendText(text);
      n++;
    }
    return n;
  }

  /** To one client of this gateway, or to all of them but `except`; returns how many. */
  deliverLocal(text: string, target?: string, except?: string): number {
    if (target !== undefined) {
      const p = this.clients.get(target);
      p?.sendText(text);
      return p ? 1 : 0;
    }
    let n = 0;
    for (const [id, peer] of this.clients) {
      if (id === except) continue;
      peer.sendText(text);
      n++;
    }
    return n;
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
      if (peer) peer.sendText(text);
      else if (!this.ctx.fleet?.toClient(target, text)) return -1;
      return 1;
    }
    return this.deliverLocal(text, undefined, fromId) + (this.ctx.fleet?.toAll(fromId, text) ?? 0);
  }
}

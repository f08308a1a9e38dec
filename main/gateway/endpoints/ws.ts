/**
 * Endpoint `/ws` (or the path an embedding application chose): the Node
 * WebSocket module's envelope `{"id","type","content","sessionId"?,"timestamp"}`.
 * `init`, `ping` and `system` are answered here; every other type goes to the
 * handler registered for it. Every answer, an error included, carries the id
 * of the frame it answers, so a client can match them; a frame that came
 * without an id gets one, returned in the answer.
 */
import type { Static } from '@sinclair/typebox';
import { errorFrame, isObject, parseEnvelope, type EnvelopeFrames, type EnvelopeMessage, type ErrorFrame, type FrameOf } from '../../../firmware-protocol/index.js';
import type { Base } from '../base.js';
import type { Peer } from '../peer.js';
import { handlerError, type ConnectionInfo, type IncomingFrame, type Platform } from '../platform/platform.js';
import { handleFrames, type Intake } from './frames.js';

export type EnvelopeEndpointDeps = Intake & Pick<Base, 'clock'> & { readonly platform: Platform };

type EnvelopeOwn = FrameOf<typeof EnvelopeFrames>;

export function attachEnvelope(ctx: EnvelopeEndpointDeps, peer: Peer, info: ConnectionInfo): void {
  const { platform, clock } = ctx;
  const now = () => new Date(clock.now()).toISOString();
  const send = (f: Record<string, unknown>) => {
    peer.send(f);
    return f;
  };
  const fail = (e: ErrorFrame, id: string | number | undefined) =>
    send({
      id: id ?? platform.newId(),
      type: 'error',
      content: { code: e.code, error: e.message, originalMessageId: id ?? null },
      ...(info.sessionId === null ? {} : { sessionId: info.sessionId }),
      timestamp: now(),
    });
  const reply = (id: string | number, type: string, content: unknown) =>
    send({ id, type, content, ...(info.sessionId === null ? {} : { sessionId: info.sessionId }), timestamp: now() });

  peer.refuseWith = (err, id) => fail(handlerError(err, id), id);
  send(platform.envelope({ type: 'system', content: { action: 'welcome', text: 'connected', connectionId: info.id } }));

  handleFrames(ctx, peer, async (text) => {
    const p = parseEnvelope(text);
    if (!p.ok) return fail(errorFrame(p.error.code, p.error.message), p.id);
    const msg: IncomingFrame = { ...p.frame, id: p.id ?? platform.newId() };
    const mid = msg.id as string | number;
    const f = p.frame as EnvelopeOwn | (EnvelopeMessage & { type: string });
    switch (f.type) {
      case 'init': {
        const i = f as Static<typeof EnvelopeFrames.init>;
        info.sessionId = i.content?.sessionId ?? i.sessionId ?? info.sessionId ?? `s-${info.id}`;
        if (i.content?.userId !== undefined) info.userId = i.content.userId;
        return reply(mid, 'init_response', {
          connectionId: info.id,
          sessionId: info.sessionId,
          userId: info.userId,
          status: 'connected',
          serverTime: clock.now(),
          timestamp: now(),
        });
      }
      case 'ping':
        return reply(mid, 'pong', { timestamp: now(), serverTime: clock.now() });
      case 'system':
        return (f as Static<typeof EnvelopeFrames.system>).content?.action === 'get_metrics'
          ? reply(mid, 'system', { action: 'metrics_response', data: platform.getMetrics() })
          : reply(mid, 'system', { action: 'status_response', data: platform.getHealth() });
    }
    const reg = platform.handlerFor('ws', msg.type);
    if (!reg) return fail(errorFrame('UNKNOWN_TYPE', `No handler found for message type: ${msg.type.slice(0, 64)}`), mid);
    try {
      const r = await platform.run(reg, msg, info);
      if (!isObject(r)) return undefined;
      const out = platform.envelope({ ...r, sessionId: r.sessionId ?? info.sessionId ?? undefined }, mid);
      return send(out);
    } catch (err) {
      const e = handlerError(err, mid);
      return fail(e, mid);
    }
  });
}

/**
 * Endpoint `/ws/esp32/{device_code}/`: seed 001's boards. The device code is
 * the board's id; auth (in token mode) was checked at the upgrade.
 */
import { BoardFrames, FrameParser } from '../../../firmware-protocol/index.js';
import type { GatewayContext } from '../context.js';
import type { Peer } from '../peer.js';
import { handleFrames } from './frames.js';

const parser = new FrameParser(BoardFrames);

export function attachBoard(ctx: GatewayContext, peer: Peer, deviceId: string): void {
  const conn = ctx.boards.connect(deviceId, peer);
  peer.send({ type: 'connection_established', device_code: deviceId, server_time: ctx.clock.now() });
  ctx.log.info('board connected', { device_id: deviceId, ip: peer.ip });
  ctx.commands.onBoardConnected(deviceId).catch((err: unknown) => {
    ctx.metrics.storeErrors++;
    ctx.log.warn('could not load queued commands', { device_id: deviceId, error: String(err) });
  });

  handleFrames(ctx, peer, (text) => {
    ctx.boards.seen(deviceId);
    const p = parser.parse(text);
    if (!p.ok) return peer.send(p.error);
    const f = p.frame;
    switch (f.type) {
      case 'heartbeat':
        ctx.boards.heartbeat(deviceId, { battery: f.battery, rssi: f.rssi });
        return peer.send({ type: 'heartbeat_ack', server_time: ctx.clock.now() });
      case 'status_update':
        return ctx.boards.setStatus(deviceId, f.status).then(() => peer.send({ type: 'status_ack' }));
      case 'poll_commands':
        return ctx.commands.poll(deviceId).then((commands) => peer.send({ type: 'commands', commands }));
      case 'command_ack':
        return ctx.commands.ack(deviceId, f.command_id, f.ok !== false, f.result).then(() => undefined);
      case 'sensor_data': {
        const d = f.data;
        ctx.metrics.sensorFrames++;
        ctx.metrics.sensorSamples++;
        ctx.operators.pushSensor({
          device_id: deviceId,
          seq: f.seq ?? null,
          session_id: f.session_id ?? null,
          start_ms: f.timestamp,
          rate_hz: 0,
          samples: [[d.ax, d.ay, d.az, d.gx, d.gy, d.gz]],
        });
        return peer.send({ type: 'data_ack', seq: f.seq ?? null });
      }
      case 'batch_sensor_data':
        ctx.metrics.sensorFrames++;
        ctx.metrics.sensorSamples += f.samples.length;
        ctx.operators.pushSensor({
          device_id: deviceId,
          seq: f.seq,
          session_id: f.session_id ?? null,
          start_ms: f.start_ms,
          rate_hz: f.rate_hz,
          samples: f.samples,
        });
        return peer.send({ type: 'data_ack', seq: f.seq });
      case 'upload_complete':
        ctx.operators.publish('devices', { event: 'upload_complete', device_id: deviceId, session_id: f.session_id ?? null, last_seq: f.last_seq });
        return peer.send({ type: 'upload_ack', last_seq: f.last_seq });
    }
  });

  peer.ws.on('close', () => {
    ctx.boards.disconnect(conn);
    ctx.log.info('board disconnected', { device_id: deviceId });
  });
}

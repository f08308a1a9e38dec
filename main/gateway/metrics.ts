/**
 * Counters and gauges for /metrics (Prometheus text format 0.0.4) and the
 * operator's system status. Plain fields, so the hot path pays an increment.
 */
export class Metrics {
  framesIn = 0;
  framesOut = 0;
  messagesRelayed = 0;
  signalsRelayed = 0;
  sensorFrames = 0;
  sensorSamples = 0;
  commandsSent = 0;
  commandsAcked = 0;
  connectionsRejected = 0;
  storeErrors = 0;
  readonly errors = new Map<string, number>();
  readonly startedAt = Date.now();

  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  render(gauges: { connections: Record<string, number>; rooms: number; boardsOnline: number; version: string }): string {
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, values: [string, number][]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of values) lines.push(`${name}${labels} ${v}`);
    };
    metric('courtside_info', 'gauge', 'Gateway version.', [[`{version="${gauges.version}"}`, 1]]);
    metric('courtside_uptime_seconds', 'gauge', 'Seconds since start.', [['', Math.round((Date.now() - this.startedAt) / 1000)]]);
    metric(
      'courtside_connections',
      'gauge',
      'Open WebSocket connections by endpoint.',
      Object.entries(gauges.connections).map(([k, v]) => [`{endpoint="${k}"}`, v]),
    );
    metric('courtside_rooms', 'gauge', 'Rooms with at least one member.', [['', gauges.rooms]]);
    metric('courtside_boards_online', 'gauge', 'Boards connected on /ws/esp32/.', [['', gauges.boardsOnline]]);
    metric('courtside_frames_received_total', 'counter', 'Frames received on all endpoints.', [['', this.framesIn]]);
    metric('courtside_frames_sent_total', 'counter', 'Frames sent on all endpoints.', [['', this.framesOut]]);
    metric('courtside_room_messages_total', 'counter', 'Room messages relayed (the room protocol).', [['', this.messagesRelayed]]);
    metric('courtside_signals_total', 'counter', 'Signaling frames relayed (the signaling protocol).', [['', this.signalsRelayed]]);
    metric('courtside_sensor_frames_total', 'counter', 'Sensor frames accepted from boards.', [['', this.sensorFrames]]);
    metric('courtside_sensor_samples_total', 'counter', 'Sensor samples accepted from boards.', [['', this.sensorSamples]]);
    metric('courtside_commands_sent_total', 'counter', 'Commands pushed to boards (resends included).', [['', this.commandsSent]]);
    metric('courtside_commands_acked_total', 'counter', 'Commands acked by boards.', [['', this.commandsAcked]]);
    metric('courtside_connections_rejected_total', 'counter', 'Upgrades refused (limits, auth, path).', [['', this.connectionsRejected]]);
    metric('courtside_store_errors_total', 'counter', 'Database operations that failed.', [['', this.storeErrors]]);
    metric(
      'courtside_frame_errors_total',
      'counter',
      'Error frames sent, by code.',
      [...this.errors].map(([k, v]) => [`{code="${k}"}`, v]),
    );
    return lines.join('\n') + '\n';
  }
}

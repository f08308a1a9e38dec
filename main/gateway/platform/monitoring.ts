/**
 * The monitoring plugin of the Node WebSocket module: thresholds on the error
 * rate, the mean response time and the connection count. A crossing raises
 * one alert (the `alert` event, and a `system_notification` at level
 * `warning` to every operator, so it shows in the UI) and stays quiet until
 * the value is back under its threshold, so a lasting fault is no flood.
 */
import type { Alert, Platform, Plugin } from './platform.js';

export interface MonitoringOptions {
  alertThresholds?: {
    /** Error frames per frame received since the last check (0.05: 5 %). */
    errorRate?: number;
    /** Mean ms from a frame read to its handler done, over the frames since the last check. */
    responseTime?: number;
    /** Open connections, all endpoints. */
    connectionCount?: number;
  };
  /** How often the rates are checked. Default 5000 ms; the connection count is checked on every new connection too. */
  intervalMs?: number;
}

const UNITS: Record<Alert['kind'], string> = { errorRate: '', responseTime: ' ms', connectionCount: '' };

export function monitoringPlugin(options: MonitoringOptions = {}): Plugin {
  const t = options.alertThresholds ?? {};
  return {
    type: 'plugin',
    name: 'monitoring',
    install(platform: Platform) {
      const raised = new Set<Alert['kind']>();
      let lastIn = platform.stats.received;
      let lastErr = platform.stats.errors;
      let lastCount = platform.stats.handledCount;
      let lastMs = platform.stats.handledMs;
      const judge = (kind: Alert['kind'], value: number, threshold: number | undefined) => {
        if (threshold === undefined) return;
        if (value <= threshold) return void raised.delete(kind);
        if (raised.has(kind)) return;
        raised.add(kind);
        const alert: Alert = {
          kind,
          value,
          threshold,
          message: `alert: ${kind} ${value}${UNITS[kind]} is over the threshold of ${threshold}${UNITS[kind]}`,
          timestamp: new Date(platform.clock.now()).toISOString(),
        };
        platform.emit('alert', alert);
        platform.notifyOperators(alert.message, 'warning');
      };
      const check = () => {
        const s = platform.stats;
        const frames = s.received - lastIn;
        const errors = s.errors - lastErr;
        lastIn = s.received;
        lastErr = s.errors;
        if (frames > 0) judge('errorRate', Math.round((errors / frames) * 10000) / 10000, t.errorRate);
        const handled = s.handledCount - lastCount;
        if (handled > 0) judge('responseTime', Math.round(((s.handledMs - lastMs) / handled) * 10) / 10, t.responseTime);
        lastCount = s.handledCount;
        lastMs = s.handledMs;
        judge('connectionCount', s.active, t.connectionCount);
      };
      const onConnection = () => judge('connectionCount', platform.stats.active, t.connectionCount);
      platform.on('connection:added', onConnection);
      const stop = platform.every(options.intervalMs ?? 5000, check);
      return () => {
        stop();
        platform.off('connection:added', onConnection);
      };
    },
  };
}

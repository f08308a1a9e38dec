/**
 * The contract between Courtside and the boards and apps that talk to it.
 * Schemas, constants and pure functions only: no I/O, no Node imports.
 */
export * from './errors.js';
export * from './validate.js';
export * from './frame.js';
export * from './legacy.js';
export * from './esp32.js';
export * from './user.js';
export * from './operator.js';
export * from './nvs-config.js';
export * from './usb.js';
export * from './sessions.js';
export * from './corrections.js';
export * from './players.js';
export * from './wire.js';
export * from './operator-replies.js';
export * from './operator-events.js';
export * from './usb-replies.js';
export * from './ota.js';
export * from './error-frame.js';
export * from './operator-api.js';
export * from './settings.js';
export * from './fleet.js';
export * from './flow.js';
export * from './envelope.js';
export * from './live.js';

/** Bumped when a frame changes incompatibly; advertised in mDNS TXT `pv`. */
export const PROTOCOL_VERSION = 1;

/** Endpoint paths. */
export const Paths = {
  legacy: '/',
  board: '/ws/esp32/',
  user: '/ws/miniprogram/',
  operator: '/ws/admin/',
  envelope: '/ws',
} as const;

export const DEFAULT_PORT = 8765;

/**
 * The hubs' cross-gateway hooks: what a hub tells the rest of the fleet and asks of it. Each
 * hub takes its hook as an optional dependency; a gateway without Redis passes none and the
 * hub runs exactly as on its own. Types only: the hubs import nothing of Redis.
 */
import type { SensorBatch } from '../../../firmware-protocol/index.js';

export interface RoomPresence {
  roomId: string;
  deviceId: string;
  identity: string;
  presence: boolean;
}

export interface RoomFleet {
  joined(m: RoomPresence): void;
  left(m: RoomPresence): void;
  /** Members of the room that other gateways hold. */
  remoteMembers(roomId: string): { deviceId: string; identity: string }[];
  /** Sends the frame to the room's members on other gateways but `except`; returns how many. */
  toRoom(roomId: string, except: string, text: string): number;
  /** Sends the frame to a room device another gateway holds (in `roomId` if given); false if none does. */
  toDevice(deviceId: string, text: string, roomId?: string): boolean;
}

export interface SignalFleet {
  registered(clientId: string): void;
  unregistered(clientId: string): void;
  toClient(clientId: string, text: string): boolean;
  /** To every signaling client on other gateways but `except`; returns how many. */
  toAll(except: string, text: string): number;
  remoteIds(): string[];
}

export interface RemoteBoard {
  gatewayId: string;
  ip: string | null;
  connectedAt: number;
  status: Record<string, unknown> | null;
}

export interface BoardFleet {
  connected(deviceId: string, ip: string): void;
  disconnected(deviceId: string): void;
  status(deviceId: string, status: Record<string, unknown>): void;
  /** The board if another gateway holds it now. */
  remote(deviceId: string): RemoteBoard | undefined;
  remoteAll(): [string, RemoteBoard][];
  /** This gateway's id (the device list says which gateway holds each board). */
  readonly gatewayId: string;
}

export interface CommandFleet {
  /** Asks the gateway holding the board to push a stored command; false if no other gateway holds it. */
  push(deviceId: string, commandId: string): boolean;
}

export interface UserFleet {
  online(userId: string): void;
  offline(userId: string): void;
  /** Hands the frame to the gateway the player is connected to (it stores it if the player left); false if none. */
  notify(userId: string, frame: Record<string, unknown>): boolean;
}

export interface OperatorFleet {
  event(topic: string, payload: Record<string, unknown>, at: string): void;
  /** Operators on other gateways the frame went to. */
  notifyAll(frame: Record<string, unknown>): number;
  sensor(batch: SensorBatch): void;
  /** This gateway's sensor watchers changed (other gateways send batches only while someone watches). */
  watchers(n: number): void;
}

export interface SessionFleet {
  /** The session's row (or a board's final seq) changed in the shared database: other gateways read it again. */
  changed(sessionId: string): void;
  /** Called with a session id another gateway changed, and with null when events may have been missed (read every open session again). */
  onChange(fn: (sessionId: string | null) => void): void;
}

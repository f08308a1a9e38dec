/**
 * Everything a signed-in page uses, built once per token: the client and the
 * stores that live as long as the page (status, devices, rooms); the Live and
 * Sessions stores start and stop with their views.
 */
import { GatewayClient } from './client.js';
import { createDevicesStore } from './stores/devices.js';
import { createLiveStore } from './stores/live.js';
import { createRoomsStore } from './stores/rooms.js';
import { createSessionsStore } from './stores/sessions.js';
import { createPlayersStore } from './stores/players.js';
import { createSettingsStore } from './stores/settings.js';
import { createStatusStore } from './stores/status.js';
import { createUsbStore } from './stores/usb.js';

export function createApp(baseUrl: string, token: string) {
  const client = new GatewayClient({ baseUrl, token });
  const status = createStatusStore(client);
  const rooms = createRoomsStore(client);
  const devices = createDevicesStore(client, rooms.roomOf);
  const app = {
    client,
    status,
    rooms,
    devices,
    live: createLiveStore(client),
    sessions: createSessionsStore(client),
    players: createPlayersStore(client),
    usb: createUsbStore(client),
    settings: createSettingsStore(client),
    start(): void {
      status.start();
      rooms.start();
      devices.start();
      client.connect();
    },
    stop(): void {
      status.stop();
      rooms.stop();
      devices.stop();
      app.live.stop();
      app.sessions.stop();
      app.players.stop();
      app.usb.stop();
      client.close();
    },
  };
  return app;
}

export type App = ReturnType<typeof createApp>;

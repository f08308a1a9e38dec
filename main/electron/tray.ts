/** The tray icon: what the gateway is doing at a glance, and the way back to the window or out. */
import { join } from 'node:path';
import { app, clipboard, Menu, nativeImage, Tray } from 'electron';
import type { Gateway } from '../gateway/index.js';

export function trayStatus(gw: Gateway): string {
  const c = gw.core;
  const boards = c.boards.onlineCount();
  const rooms = c.rooms.activeRooms().length;
  return `Courtside on port ${gw.port}: ${boards} ${boards === 1 ? 'board' : 'boards'} online, ${rooms} ${rooms === 1 ? 'room' : 'rooms'}`;
}

export function createTray(gw: Gateway, actions: { show(): void; quit(): void }): () => void {
  const icon = nativeImage.createFromPath(join(app.getAppPath(), 'build', 'tray.png'));
  const tray = new Tray(icon);
  const lanUrl = gw.core.urls().operator[0] ?? gw.operatorUrl;
  const render = () => {
    const status = trayStatus(gw);
    tray.setToolTip(status);
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: status, enabled: false },
        { type: 'separator' },
        { label: 'Open Courtside', click: actions.show },
        { label: 'Copy the address for tablets', click: () => clipboard.writeText(lanUrl) },
        { type: 'separator' },
        { label: 'Quit', click: actions.quit },
      ]),
    );
  };
  render();
  tray.on('click', actions.show);
  const timer = setInterval(render, 5000);
  return () => {
    clearInterval(timer);
    tray.destroy();
  };
}

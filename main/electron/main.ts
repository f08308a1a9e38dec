/**
 * The desktop app: one instance, the gateway in this process, a window on
 * it, a tray icon. Everything the operator does goes through the gateway's
 * own UI and API, exactly as in a browser; this file only starts, shows and
 * stops. Quitting closes the gateway first (sockets closed, pending writes
 * flushed, database closed) and only then lets Electron exit.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, dialog } from 'electron';
import type { Gateway } from '../gateway/index.js';
import { startDesktopGateway } from './compose.js';
import { GatewayError } from '../gateway/errors.js';
import { registerIpc } from './ipc.js';
import { lockDown } from './security.js';
import { createTray } from './tray.js';

const here = fileURLToPath(new URL('.', import.meta.url));
let gateway: Gateway | null = null;
let window: BrowserWindow | null = null;
let removeTray: (() => void) | null = null;
let quitting: Promise<void> | null = null;

function createWindow(gw: Gateway): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 760,
    minHeight: 560,
    title: 'Courtside',
    icon: join(app.getAppPath(), 'build', 'icon.png'),
    show: false,
    webPreferences: {
      preload: join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (window === win) window = null;
  });
  // The printed URL carries the token; the UI takes it out of the address bar.
  void win.loadURL(gw.operatorUrl);
  return win;
}

function show(): void {
  if (!gateway) return;
  if (!window) window = createWindow(gateway);
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}

function quit(): void {
  quitting ??= (async () => {
    removeTray?.();
    await gateway?.close().catch((err: unknown) => console.error('gateway close failed', err));
    gateway = null;
  })().finally(() => app.exit(0));
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    // Another Courtside already runs the gateway on this machine: it shows its window (second-instance below).
    app.quit();
    return;
  }
  app.on('second-instance', show);
  await app.whenReady();
  try {
    // Port, database, device auth and discovery come from settings.json in this folder (the Settings view edits it).
    gateway = await startDesktopGateway(app.getPath('userData'));
  } catch (err) {
    const message = err instanceof GatewayError ? err.message : err instanceof Error ? err.message : String(err);
    dialog.showErrorBox('Courtside could not start its gateway', message);
    app.exit(1);
    return;
  }
  const origin = new URL(gateway.operatorUrl).origin;
  const gw = gateway;
  lockDown(origin, () => gw.options.tls?.fingerprint ?? null);
  registerIpc(() => window, origin);
  removeTray = createTray(gateway, { show, quit });
  show();
  // Closing the window keeps the gateway running for the boards on Windows and macOS, where the tray (menu bar)
  // icon brings it back. Linux desktops do not all show tray icons, so there closing the window quits.
  app.on('window-all-closed', () => {
    if (process.platform === 'linux') quit();
  });
  app.on('activate', show);
  app.on('before-quit', (event) => {
    if (gateway) {
      event.preventDefault();
      quit();
    }
  });
}

void main();

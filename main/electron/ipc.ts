/**
 * The only two things the window asks of the desktop: save an export where
 * the operator chooses, and read a firmware image the operator picks. Both
 * check the sender and their arguments; neither takes a path from the page.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { app, dialog, ipcMain, type BrowserWindow } from 'electron';
import { trustedSender } from './security.js';

const MAX_SAVE_BYTES = 2 * 1024 ** 3;
/** ESP32 flash is at most 16 MiB; anything larger is not a firmware image. */
const MAX_FIRMWARE_BYTES = 16 * 1024 ** 2;

export const Channels = { saveFile: 'courtside:save-file', pickFirmware: 'courtside:pick-firmware' } as const;

/** A file name without folders or characters that filesystems refuse. */
export function safeName(name: unknown): string {
  const s = basename(typeof name === 'string' ? name : '').replace(/[\u0000-\u001f<>:"/\\|?*]/g, '_').slice(0, 200);
  return s && s !== '.' && s !== '..' ? s : 'courtside-export';
}

export function registerIpc(window: () => BrowserWindow | null, origin: string): void {
  ipcMain.handle(Channels.saveFile, async (event, name: unknown, data: unknown) => {
    const win = window();
    if (!trustedSender(event, win?.webContents ?? null, origin)) throw new Error('refused');
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data instanceof Uint8Array ? data : null;
    if (!bytes || bytes.byteLength > MAX_SAVE_BYTES) throw new Error('nothing to save');
    const r = await dialog.showSaveDialog(win!, { defaultPath: join(app.getPath('downloads'), safeName(name)) });
    if (r.canceled || !r.filePath) return { saved: false };
    await writeFile(r.filePath, bytes);
    return { saved: true, path: r.filePath };
  });

  ipcMain.handle(Channels.pickFirmware, async (event) => {
    const win = window();
    if (!trustedSender(event, win?.webContents ?? null, origin)) throw new Error('refused');
    const r = await dialog.showOpenDialog(win!, { properties: ['openFile'], filters: [{ name: 'Firmware image', extensions: ['bin'] }, { name: 'All files', extensions: ['*'] }] });
    const path = r.filePaths[0];
    if (r.canceled || !path) return null;
    if ((await stat(path)).size > MAX_FIRMWARE_BYTES) throw new Error('That file is larger than any ESP32 firmware image (16 MiB).');
    const buf = await readFile(path);
    return { name: basename(path), data: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) };
  });
}

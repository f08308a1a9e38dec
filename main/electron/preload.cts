/**
 * Sandboxed preload (CommonJS: sandboxed preloads cannot be ES modules). It
 * exposes exactly what a browser cannot do; the renderer checks for
 * `window.courtside` and falls back to the browser's way without it
 * (renderer/src/lib/native.ts).
 */
import { contextBridge, ipcRenderer } from 'electron';

contextBridge.exposeInMainWorld('courtside', {
  desktop: true,
  saveFile: (suggestedName: string, data: ArrayBuffer): Promise<{ saved: boolean; path?: string }> =>
    ipcRenderer.invoke('courtside:save-file', String(suggestedName), data),
  pickFirmware: (): Promise<{ name: string; data: ArrayBuffer } | null> => ipcRenderer.invoke('courtside:pick-firmware'),
});

/**
 * What only the desktop app can do, with the browser's way as the fallback:
 * the Electron preload exposes `window.courtside` (a native save dialog, a
 * firmware file picker); in a browser the download goes through an <a download>
 * and the picker through an <input type=file>. Views call these two functions
 * and never check where they run.
 */
export interface NativeBridge {
  readonly desktop: true;
  saveFile(suggestedName: string, data: ArrayBuffer): Promise<{ saved: boolean; path?: string }>;
  pickFirmware(): Promise<{ name: string; data: ArrayBuffer } | null>;
}

function bridge(): NativeBridge | undefined {
  const b = (window as unknown as { courtside?: NativeBridge }).courtside;
  return b && b.desktop === true ? b : undefined;
}

export const isDesktop = (): boolean => bridge() !== undefined;

/** Saves bytes under a name the user confirms (desktop) or as a browser download. */
export async function saveFile(name: string, data: ArrayBuffer, type = 'application/octet-stream'): Promise<{ saved: boolean; path?: string }> {
  const b = bridge();
  if (b) return b.saveFile(name, data);
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoked later: some browsers read the blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
  return { saved: true };
}

/** Asks for a firmware image (.bin); null when the user cancels. */
export async function pickFirmware(): Promise<{ name: string; data: ArrayBuffer } | null> {
  const b = bridge();
  if (b) return b.pickFirmware();
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = '.bin,application/octet-stream';
    input.addEventListener('change', async () => {
      const f = input.files?.[0];
      resolve(f ? { name: f.name, data: await f.arrayBuffer() } : null);
    });
    input.addEventListener('cancel', () => resolve(null));
    input.click();
  });
}

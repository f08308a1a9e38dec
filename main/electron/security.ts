/**
 * Electron's security checklist, applied to every web contents the app
 * creates: only the gateway's origin may be shown, no new windows, no
 * webviews, no permissions, a CSP on every response (the gateway sends its
 * own; this one covers anything that would arrive without it), and IPC only
 * from the main window's top frame on the gateway's origin.
 */
import { app, session, shell, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { isGatewayCertificate } from './compose.js';

/** The CSP the gateway sends (main/gateway/static.ts); repeated here for responses that lack one. */
export const CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'";

export function sameOrigin(url: string, origin: string): boolean {
  try {
    return new URL(url).origin === origin;
  } catch {
    return false;
  }
}

/** Links to the web (documentation, a board's own page) open in the system browser, never in the app. */
function openOutside(url: string): void {
  try {
    const u = new URL(url);
    if (u.protocol === 'https:' || u.protocol === 'http:') void shell.openExternal(u.toString());
  } catch {
    /* not a URL: ignore */
  }
}

export function lockDown(origin: string, fingerprint: () => string | null = () => null): void {
  const ses = session.defaultSession;
  // The gateway's self-made certificate is trusted here by its fingerprint (0: trusted); any
  // other certificate gets Chromium's own verdict (-3). Read on each check: a renewal changes it.
  ses.setCertificateVerifyProc((request, callback) => callback(isGatewayCertificate(request.certificate.data, fingerprint()) ? 0 : -3));
  ses.setPermissionRequestHandler((_wc, permission, callback) => callback(permission === 'clipboard-sanitized-write'));
  ses.setPermissionCheckHandler((_wc, permission) => permission === 'clipboard-sanitized-write');
  ses.webRequest.onHeadersReceived((details, callback) => {
    const headers = { ...details.responseHeaders };
    const has = Object.keys(headers).some((k) => k.toLowerCase() === 'content-security-policy');
    if (!has) headers['Content-Security-Policy'] = [CSP];
    callback({ responseHeaders: headers });
  });

  app.on('web-contents-created', (_e, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!sameOrigin(url, origin)) {
        event.preventDefault();
        openOutside(url);
      }
    });
    contents.on('will-redirect', (event, url) => {
      if (!sameOrigin(url, origin)) event.preventDefault();
    });
    contents.setWindowOpenHandler(({ url }) => {
      openOutside(url);
      return { action: 'deny' };
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
}

/** IPC is answered only for the main window's top frame showing the gateway. */
export function trustedSender(event: IpcMainInvokeEvent, main: WebContents | null, origin: string): boolean {
  const frame = event.senderFrame;
  return main !== null && event.sender === main && frame !== null && frame === main.mainFrame && sameOrigin(frame.url, origin);
}

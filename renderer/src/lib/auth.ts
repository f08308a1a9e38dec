/**
 * The operator token: taken from the URL the gateway prints (`/?token=...`),
 * then removed from the address bar so it does not end up in bookmarks,
 * screenshots or the history, and kept in this browser's storage so a reload
 * does not ask again. "Sign out" forgets it.
 */
const KEY = 'courtside.operatorToken';

export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Splits `?token=` off a URL: the token (if any) and the URL without it. */
export function takeTokenFromUrl(href: string): { token: string | null; cleanUrl: string } {
  const u = new URL(href);
  const token = u.searchParams.get('token');
  u.searchParams.delete('token');
  return { token: token && token.trim() ? token.trim() : null, cleanUrl: u.pathname + u.search + u.hash };
}

export function loadToken(storage: TokenStorage | null): string | null {
  try {
    return storage?.getItem(KEY) ?? null;
  } catch {
    return null;
  }
}

export function saveToken(storage: TokenStorage | null, token: string | null): void {
  try {
    if (token) storage?.setItem(KEY, token);
    else storage?.removeItem(KEY);
  } catch {
    // Storage can be disabled (private mode): the token then lasts for this page only.
  }
}

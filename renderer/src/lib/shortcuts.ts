/**
 * Keyboard shortcuts of the whole app: `g` then a letter opens a view, `/` puts the cursor
 * in the view's filter, `?` shows the list. Keys typed into a field are the field's, and
 * keys with Ctrl, Alt or Meta are the browser's. Space is left alone: Live pauses on it.
 */

export interface Shortcut {
  keys: string;
  what: string;
  /** The view `g <key>` opens. */
  view?: string;
}

export const GO_KEYS: Readonly<Record<string, string>> = {
  o: 'overview',
  r: 'rooms',
  d: 'devices',
  l: 'live',
  s: 'sessions',
  p: 'provisioning',
  f: 'firmware',
  t: 'settings',
};

export const SHORTCUTS: readonly Shortcut[] = [
  ...Object.entries(GO_KEYS).map(([k, view]) => ({ keys: `g ${k}`, what: `Go to ${view[0]!.toUpperCase()}${view.slice(1)}`, view })),
  { keys: '/', what: 'Filter the list of this view' },
  { keys: 'Space', what: 'Pause or resume the Live plots (on Live)' },
  { keys: '?', what: 'Show or hide this list' },
  { keys: 'Esc', what: 'Close this list' },
];

/** How long after `g` the second key counts. */
export const CHORD_MS = 1500;

export type ShortcutAction = { kind: 'go'; view: string } | { kind: 'filter' } | { kind: 'help' } | { kind: 'close' } | { kind: 'wait' } | null;

/** What a key does, given whether `g` was pressed just before (pure, so the rules are tested alone). */
export function actionFor(key: string, afterG: boolean): ShortcutAction {
  if (afterG) {
    const view = GO_KEYS[key.toLowerCase()];
    return view ? { kind: 'go', view } : null;
  }
  if (key === 'g') return { kind: 'wait' };
  if (key === '/') return { kind: 'filter' };
  if (key === '?') return { kind: 'help' };
  if (key === 'Escape') return { kind: 'close' };
  return null;
}

export interface KeyLike {
  key: string;
  ctrlKey: boolean;
  altKey: boolean;
  metaKey: boolean;
  target: unknown;
  defaultPrevented: boolean;
  preventDefault(): void;
}

/** A field that takes typing: its keys are never shortcuts. */
function typing(t: unknown): boolean {
  const el = t as { tagName?: string; isContentEditable?: boolean; type?: string } | null;
  if (!el || typeof el.tagName !== 'string') return false;
  const tag = el.tagName.toUpperCase();
  if (tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable) return true;
  return tag === 'INPUT' && !['checkbox', 'radio', 'button', 'submit', 'range'].includes(el.type ?? 'text');
}

export interface ShortcutHandlers {
  go(view: string): void;
  /** Focuses the view's filter; false when the view has none. */
  filter(): boolean;
  help(): void;
  close(): void;
}

/** Listens on `target` (the window); returns the remover. */
export function installShortcuts(target: { addEventListener(t: 'keydown', f: (e: KeyLike) => void): void; removeEventListener(t: 'keydown', f: (e: KeyLike) => void): void }, h: ShortcutHandlers, now: () => number = Date.now): () => void {
  let gAt = -Infinity;
  const onKey = (e: KeyLike) => {
    if (e.defaultPrevented || e.ctrlKey || e.altKey || e.metaKey) return;
    if (typing(e.target)) {
      if (e.key === 'Escape') h.close();
      return;
    }
    const afterG = now() - gAt < CHORD_MS;
    gAt = -Infinity;
    const a = actionFor(e.key, afterG);
    if (!a) return;
    if (a.kind === 'wait') gAt = now();
    else if (a.kind === 'go') h.go(a.view);
    else if (a.kind === 'filter') {
      if (!h.filter()) return;
    } else if (a.kind === 'help') h.help();
    else {
      // Escape also closes whatever else is open: not taken from it.
      h.close();
      return;
    }
    e.preventDefault();
  };
  target.addEventListener('keydown', onKey);
  return () => target.removeEventListener('keydown', onKey);
}

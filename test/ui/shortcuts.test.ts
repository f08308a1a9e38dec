/** The app's keyboard shortcuts: the chord `g` + letter within its time, `/`, `?`, keys in fields and with modifiers left alone, Space never taken. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { actionFor, CHORD_MS, installShortcuts, SHORTCUTS, type KeyLike } from '../../renderer/src/lib/shortcuts.js';

type Listener = (e: KeyLike) => void;

function harness() {
  let t = 0;
  let fn: Listener | null = null;
  const did: string[] = [];
  const target = { addEventListener: (_: 'keydown', f: Listener) => (fn = f), removeEventListener: () => (fn = null) };
  const off = installShortcuts(target, { go: (v) => did.push(`go ${v}`), filter: () => (did.push('filter'), true), help: () => did.push('help'), close: () => did.push('close') }, () => t);
  const press = (key: string, over: { target?: unknown; ctrlKey?: boolean } = {}) => {
    let prevented = false;
    fn?.({ key, ctrlKey: over.ctrlKey ?? false, altKey: false, metaKey: false, target: over.target ?? { tagName: 'MAIN' }, defaultPrevented: false, preventDefault: () => (prevented = true) });
    return prevented;
  };
  return { did, press, off, tick: (ms: number) => (t += ms), installed: () => fn !== null };
}

describe('keyboard shortcuts', () => {
  test('g then a letter opens its view; the list names every view key', () => {
    assert.deepEqual(actionFor('d', true), { kind: 'go', view: 'devices' });
    assert.deepEqual(actionFor('d', false), null);
    assert.deepEqual(actionFor('x', true), null);
    for (const k of ['g d', 'g s', 'g l', 'g r', '/', '?', 'Space']) assert.ok(SHORTCUTS.some((s) => s.keys === k), k);
  });

  test('the chord counts only within its time, and a stray key in between breaks it', () => {
    const h = harness();
    h.press('g');
    h.tick(CHORD_MS - 1);
    assert.equal(h.press('s'), true);
    h.press('g');
    h.tick(CHORD_MS);
    assert.equal(h.press('s'), false);
    h.press('g');
    h.press('x');
    h.press('l');
    assert.deepEqual(h.did, ['go sessions']);
  });

  test('/ and ? act; keys typed in a field, with Ctrl, and Space are left to others', () => {
    const h = harness();
    assert.equal(h.press('/'), true);
    assert.equal(h.press('?'), true);
    assert.equal(h.press(' '), false, 'Space stays Live\'s');
    assert.equal(h.press('/', { target: { tagName: 'INPUT', type: 'search' } }), false);
    h.press('g', { target: { tagName: 'TEXTAREA' } });
    h.press('d', { target: { tagName: 'TEXTAREA' } });
    assert.equal(h.press('?', { ctrlKey: true }), false);
    // A checkbox takes no typing: shortcuts still work with one focused.
    h.press('g', { target: { tagName: 'INPUT', type: 'checkbox' } });
    h.press('d', { target: { tagName: 'INPUT', type: 'checkbox' } });
    // Escape closes the list, from a field too, and is not taken from whatever else listens.
    assert.equal(h.press('Escape', { target: { tagName: 'INPUT', type: 'text' } }), false);
    assert.deepEqual(h.did, ['filter', 'help', 'go devices', 'close']);
    h.off();
    assert.equal(h.installed(), false);
  });
});

/**
 * PROTOCOL.md's examples against the gateway's validators and against the
 * exported JSON Schema files: good frames pass both, bad frames get exactly
 * the documented error and fail the schema, gateway frames fit their schema,
 * and every frame has its examples.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJson } from '../../firmware-protocol/index.js';
import { schemaEntries } from '../../firmware-protocol/export-schemas.js';
import { SCHEMA_DIR, badPair, endpointOf, fileForGatewayFrame, hasElision, parseClients, parseSteps, readBlocks, splitName, validateAs, type Block } from './doc.js';
import { firstError } from './json-schema.js';

const blocks = readBlocks();
const of = (kind: Block['kind']) => blocks.filter((b) => b.kind === kind);
const where = (b: Block) => `PROTOCOL.md:${b.line} (${b.kind}: ${b.arg})`;

const schemaCache = new Map<string, Record<string, unknown>>();
function schemaFile(file: string): Record<string, unknown> {
  let s = schemaCache.get(file);
  if (!s) schemaCache.set(file, (s = JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as Record<string, unknown>));
  return s;
}

const clientFile = (name: string) => {
  const [endpoint, type] = splitName(name);
  return `${endpoint}/${type}.json`;
};
const serverFile = (name: string) => {
  if (name === 'error') return 'error.json';
  const [endpoint, type] = splitName(name);
  return `${endpoint}/server/${type}.json`;
};

describe('PROTOCOL.md examples', () => {
  test('the document has examples of every kind', () => {
    for (const kind of ['frame', 'bad', 'gateway', 'exchange', 'c'] as const) assert.ok(of(kind).length > 0, `no ${kind} blocks`);
    for (const b of [...of('frame'), ...of('gateway')]) assert.equal(b.lang, 'json', `${where(b)}: fence must be json`);
    // Elision is for long frames inside exchanges; frame and gateway examples are whole.
    for (const b of [...of('frame'), ...of('gateway')]) assert.ok(!hasElision(JSON.parse(b.body)), `${where(b)}: an example frame must be complete`);
    for (const b of [...of('bad'), ...of('exchange')]) assert.equal(b.lang, 'text', `${where(b)}: fence must be text`);
  });

  test('(a) every client frame example passes the gateway\'s validation', () => {
    for (const b of of('frame')) {
      const v = validateAs(b.arg, b.body);
      assert.ok(v.ok, `${where(b)}: ${v.ok ? '' : JSON.stringify(v.error)}`);
      const j = parseJson(b.body);
      assert.ok(j.ok && (j.value as { type?: unknown }).type === splitName(b.arg)[1] || ['identity', 'signal'].includes(splitName(b.arg)[1]), `${where(b)}: type does not match the marker`);
    }
  });

  test('(a) every bad example gets exactly the documented error from the validators', () => {
    for (const b of of('bad')) {
      const { text, error } = badPair(b);
      const v = validateAs(b.arg, text);
      assert.ok(!v.ok, `${where(b)}: the gateway accepts it`);
      assert.deepEqual(v.error, error, where(b));
    }
  });

  test('(c) the exported JSON Schemas accept every good example', () => {
    for (const b of of('frame')) {
      const e = firstError(schemaFile(clientFile(b.arg)), JSON.parse(b.body));
      assert.equal(e, null, `${where(b)}: ${String(e)}`);
    }
  });

  test('(c) the exported JSON Schemas reject every bad example that is JSON', () => {
    let n = 0;
    for (const b of of('bad')) {
      const { text } = badPair(b);
      const j = parseJson(text);
      if (!j.ok) continue;
      n++;
      assert.notEqual(firstError(schemaFile(clientFile(b.arg)), j.value), null, `${where(b)}: the schema accepts it`);
    }
    assert.ok(n > 20);
  });

  test('gateway frame examples, and every frame the gateway sends in an exchange, fit their schema', () => {
    for (const b of of('gateway')) {
      const frame = JSON.parse(b.body) as Record<string, unknown>;
      if (b.arg !== 'error') assert.equal(frame.type, splitName(b.arg)[1], where(b));
      const e = firstError(schemaFile(serverFile(b.arg)), frame);
      assert.equal(e, null, `${where(b)}: ${String(e)}`);
      // An event also fits the full schema of its topic and event, not only the envelope.
      if (frame.type === 'event') {
        const file = fileForGatewayFrame('operator', frame)!;
        assert.notEqual(file, serverFile(b.arg), where(b));
        const ee = firstError(schemaFile(file), frame);
        assert.equal(ee, null, `${where(b)}: ${file}: ${String(ee)}`);
      }
    }
    for (const b of of('exchange')) {
      const clients = parseClients(b.arg);
      for (const s of parseSteps(b)) {
        if (s.op !== 'expect') continue;
        const path = clients.get(s.who);
        assert.ok(path !== undefined, `PROTOCOL.md:${s.line}: no connection '${s.who}' in the marker`);
        const file = fileForGatewayFrame(endpointOf(path), s.frame);
        // A frame with fields left out is checked whole when the exchange runs against a gateway.
        if (file === null || hasElision(s.frame)) continue;
        const e = firstError(schemaFile(file), s.frame);
        assert.equal(e, null, `PROTOCOL.md:${s.line}: ${file}: ${String(e)}`);
      }
    }
  });

  test('every frame has its examples: a good and a bad one for each client frame, one of each gateway frame', () => {
    const good = new Set(of('frame').map((b) => clientFile(b.arg)));
    const bad = new Set(of('bad').map((b) => clientFile(b.arg)));
    const sent = new Set(of('gateway').map((b) => serverFile(b.arg)));
    for (const b of of('exchange')) {
      const clients = parseClients(b.arg);
      for (const s of parseSteps(b)) {
        if (s.op !== 'expect') continue;
        const f = fileForGatewayFrame(endpointOf(clients.get(s.who)!), s.frame);
        // Only a complete frame counts as the example of its type.
        if (f && !hasElision(s.frame)) sent.add(f);
      }
    }
    const missing: string[] = [];
    // Each event's own schema is exercised wherever an event example or exchange shows it; the envelope (event.json) needs an example.
    for (const e of schemaEntries().filter((x) => x.topic === undefined)) {
      if (e.direction === 'client-to-gateway') {
        if (!good.has(e.file)) missing.push(`frame: ${e.file}`);
        // A malformed discovery probe gets no answer, so there is no error to document.
        if (e.endpoint !== 'discovery' && !bad.has(e.file)) missing.push(`bad: ${e.file}`);
      } else if (!sent.has(e.file)) missing.push(`gateway: ${e.file}`);
    }
    assert.deepEqual(missing, []);
  });

  test('the error code table lists every code with its default message', async () => {
    const { FrameErrorCodes } = await import('../../firmware-protocol/errors.js');
    const md = readFileSync(join(SCHEMA_DIR, '../PROTOCOL.md'), 'utf8');
    for (const [code, message] of Object.entries(FrameErrorCodes)) {
      assert.match(md, new RegExp(`^\\| \`${code}\` \\| ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\|`, 'm'), code);
    }
  });

  test('the USB error code table lists every USB error code, and error.json accepts each', async () => {
    const { UsbErrorCodes } = await import('../../main/gateway/usb/errors.js');
    const { UsbErrorCodeNames } = await import('../../firmware-protocol/usb.js');
    const md = readFileSync(join(SCHEMA_DIR, '../PROTOCOL.md'), 'utf8');
    const usbTable = md.slice(md.indexOf('### USB error codes'));
    const listed = [...usbTable.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(listed.sort(), Object.keys(UsbErrorCodes).sort());
    // The contract's list of codes is the gateway's catalogue, neither more nor less.
    assert.deepEqual([...UsbErrorCodeNames].sort(), Object.keys(UsbErrorCodes).sort());
    for (const code of Object.keys(UsbErrorCodes)) {
      assert.equal(firstError(schemaFile('error.json'), { type: 'error', code, message: 'x', id: 1 }), null, code);
    }
  });

  test('the NVS table lists every key the gateway writes, with its NVS type', async () => {
    const { NVS_CONFIG_KEYS } = await import('../../firmware-protocol/nvs-config.js');
    const md = readFileSync(join(SCHEMA_DIR, '../PROTOCOL.md'), 'utf8');
    const rows = [...md.matchAll(/^\| `(\w+)` \| (u8|u16|string)\b/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(rows, NVS_CONFIG_KEYS.map((k) => [k.key, k.type]));
  });
});

/**
 * (b) The JSON Schema files under firmware-protocol/schemas/ are what
 * export-schemas.ts makes of the TypeScript schemas today, and `--check`
 * notices when they are not.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JSON_SCHEMA_DIALECT, renderAll, schemaEntries } from '../../firmware-protocol/export-schemas.js';
import { ROOT, SCHEMA_DIR } from './doc.js';
import { firstError } from './json-schema.js';

const SCRIPT = join(ROOT, 'firmware-protocol/export-schemas.ts');

function exportSchemas(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

describe('(b) exported JSON Schemas', () => {
  test('`export-schemas.ts --check` passes: the committed files are up to date', () => {
    const r = exportSchemas('--check');
    assert.equal(r.code, 0, r.out);
  });

  test('`--check` exits 1 and names every missing, changed and leftover file; writing fixes them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'courtside-schemas-'));
    try {
      cpSync(SCHEMA_DIR, dir, { recursive: true });
      unlinkSync(join(dir, 'esp32/heartbeat.json'));
      writeFileSync(join(dir, 'legacy/identity.json'), '{}\n');
      writeFileSync(join(dir, 'esp32/old_frame.json'), '{}\n');
      const r = exportSchemas('--check', '--dir', dir);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /esp32\/heartbeat\.json \(missing\)/);
      assert.match(r.out, /legacy\/identity\.json \(changed\)/);
      assert.match(r.out, /esp32\/old_frame\.json \(no longer exported\)/);
      assert.doesNotMatch(r.out, /esp32\/sensor_data\.json/);
      assert.equal(exportSchemas('--dir', dir).code, 0);
      assert.equal(exportSchemas('--check', '--dir', dir).code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('one file per frame, each a draft 2020-12 schema whose $id is its path, listed in index.json', () => {
    const files = renderAll();
    const index = JSON.parse(files.get('index.json')!) as { schemas: { file: string; endpoint: string | null; direction: string; type: string }[] };
    const entries = schemaEntries();
    assert.deepEqual(index.schemas.map((s) => s.file), entries.map((e) => e.file));
    assert.equal(new Set(entries.map((e) => e.file)).size, entries.length, 'two frames share a file');
    for (const file of ['esp32/batch_sensor_data.json', 'legacy/identity.json', 'operator/send_command.json', 'esp32/server/data_ack.json', 'legacy/server/room.json', 'error.json']) {
      assert.ok(files.has(file), file);
    }
    for (const e of entries) {
      const doc = JSON.parse(readFileSync(join(SCHEMA_DIR, e.file), 'utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(doc).slice(0, 4), ['$schema', '$id', 'title', 'description'], e.file);
      assert.equal(doc.$schema, JSON_SCHEMA_DIALECT);
      assert.equal(doc.$id, e.file);
      assert.equal(doc.type, 'object', e.file);
      // Every frame with a fixed type says so, so a reader can dispatch on it.
      const typeProp = (doc.properties as Record<string, { const?: unknown }>).type;
      if (e.type !== 'identity' && e.type !== 'signal') assert.equal(typeProp?.const, e.type, e.file);
      // The plain reader understands every keyword used (it throws on others).
      firstError(doc, {});
    }
  });

  test('rendering is stable: the same bytes twice, keywords in a fixed order', () => {
    const a = renderAll();
    const b = renderAll();
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const [k, v] of a) assert.equal(b.get(k), v, k);
    const batch = JSON.parse(a.get('esp32/batch_sensor_data.json')!) as { properties: Record<string, Record<string, unknown>> };
    assert.deepEqual(Object.keys(batch.properties), ['type', 'seq', 'session_id', 'start_ms', 'rate_hz', 'samples']);
    assert.deepEqual(Object.keys(batch.properties.rate_hz!), ['description', 'type', 'exclusiveMinimum', 'maximum']);
  });
});

/**
 * Writes every frame's schema as a JSON Schema (draft 2020-12) file under
 * firmware-protocol/schemas/, plus schemas/index.json listing them, so
 * firmware and app authors in any language can validate frames without
 * TypeScript.
 *
 *   node --import tsx firmware-protocol/export-schemas.ts            write the files
 *   node --import tsx firmware-protocol/export-schemas.ts --check    exit 1 and name the files that are out of date
 *   ... --dir <folder>                                               another output folder (tests)
 *
 * This is a build script, not part of the contract module: nothing imports it
 * at run time, so it may use node:fs while the rest of firmware-protocol/ stays
 * free of I/O. It defines no schema: schema-entries.ts walks the frame tables
 * of the endpoint modules, schema-render.ts turns them into text.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderAll } from './schema-render.js';

export { schemaEntries, eventFile, type Direction, type Endpoint, type SchemaEntry } from './schema-entries.js';
export { JSON_SCHEMA_DIALECT, renderAll, schemaDocument } from './schema-render.js';

export const DEFAULT_SCHEMA_DIR = join(dirname(fileURLToPath(import.meta.url)), 'schemas');

function jsonFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  const walk = (d: string) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (ent.name.endsWith('.json')) found.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return found.sort();
}

export interface CheckResult {
  /** Expected but absent. */
  missing: string[];
  /** Present with other content. */
  changed: string[];
  /** Present but no longer exported. */
  extra: string[];
}

export function checkSchemas(dir = DEFAULT_SCHEMA_DIR): CheckResult {
  const want = renderAll();
  const r: CheckResult = { missing: [], changed: [], extra: [] };
  for (const [file, content] of want) {
    const p = join(dir, file);
    if (!existsSync(p)) r.missing.push(file);
    else if (readFileSync(p, 'utf8') !== content) r.changed.push(file);
  }
  for (const file of jsonFilesUnder(dir)) if (!want.has(file)) r.extra.push(file);
  return r;
}

/** Writes every file and removes .json files that are no longer exported. Returns the paths written. */
export function writeSchemas(dir = DEFAULT_SCHEMA_DIR): string[] {
  const want = renderAll();
  for (const file of jsonFilesUnder(dir)) if (!want.has(file)) rmSync(join(dir, file));
  const written: string[] = [];
  for (const [file, content] of want) {
    const p = join(dir, file);
    mkdirSync(dirname(p), { recursive: true });
    if (existsSync(p) && readFileSync(p, 'utf8') === content) continue;
    writeFileSync(p, content);
    written.push(file);
  }
  return written;
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const at = argv.indexOf('--dir');
  const dir = at >= 0 && argv[at + 1] ? resolve(argv[at + 1]!) : DEFAULT_SCHEMA_DIR;
  if (check) {
    const r = checkSchemas(dir);
    const stale = [...r.missing.map((f) => `${f} (missing)`), ...r.changed.map((f) => `${f} (changed)`), ...r.extra.map((f) => `${f} (no longer exported)`)];
    if (stale.length === 0) {
      console.log(`schemas up to date: ${renderAll().size} files in ${dir}`);
      return 0;
    }
    console.error(`schemas out of date in ${dir}; run \`npm run schemas\`:\n` + stale.map((s) => '  ' + s).join('\n'));
    return 1;
  }
  const written = writeSchemas(dir);
  console.log(`${written.length} of ${renderAll().size} schema files written to ${dir}`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}

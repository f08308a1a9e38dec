// `npm run dist:app`: electron-builder from this folder's install, packaging the gateway at the
// repository root (its package.json, node_modules and electron-builder.yml, read there by default).
// The root does not depend on electron, so the version electron-builder downloads and rebuilds the
// native modules for is named here: this folder's locked one.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const electronVersion = JSON.parse(readFileSync(join(here, 'node_modules/electron/package.json'), 'utf8')).version;
const bin = join(here, 'node_modules/.bin', process.platform === 'win32' ? 'electron-builder.cmd' : 'electron-builder');
const r = spawnSync(bin, ['--projectDir', root, `-c.electronVersion=${electronVersion}`, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  shell: process.platform === 'win32',
});
process.exit(r.status ?? 1);

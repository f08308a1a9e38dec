// The Electron code is typechecked against the `electron` package's declarations, which live in this
// folder's own install. Installs just that (no electron-builder, no scripts: no Electron binary) when it
// is missing or not the locked version, quietly: on Node 20 its engines field would warn.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const locked = JSON.parse(readFileSync(join(here, 'package-lock.json'), 'utf8')).packages['node_modules/electron'].version;
const installed = join(here, 'node_modules/electron/package.json');
if (!existsSync(installed) || JSON.parse(readFileSync(installed, 'utf8')).version !== locked) {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: here, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.error(`desktop/types.mjs: could not install the electron type declarations (npm ci in ${here})`);
    process.exit(1);
  }
}

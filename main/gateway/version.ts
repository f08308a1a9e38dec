import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function findVersion(): string {
  // From dist/main/gateway or main/gateway, package.json is two or three levels up.
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = require(rel) as { name?: string; version?: string };
      if (pkg.name === 'courtside' && pkg.version) return pkg.version;
    } catch {
      // try the next place
    }
  }
  return '0.0.0';
}

export const VERSION = findVersion();

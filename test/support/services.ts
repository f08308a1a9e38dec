/**
 * What `npm test` sets up before the first test file runs, and the variables
 * it hands to every test process:
 *   - the system packages (installed as root on Debian, else one message);
 *   - COURTSIDE_TEST_MYSQL_URL: a private MariaDB for this run, unless the
 *     variable is already set (a server of your own wins);
 *     COURTSIDE_TEST_MARIADB: its control file, for tests that stop and start it;
 *   - COURTSIDE_TEST_REDIS_URL: a private Redis, when a selected test file
 *     mentions Redis, unless already set;
 *   - COURTSIDE_CHROMIUM: the browser found at its usual paths, unless set.
 */
import { readFileSync } from 'node:fs';
import { createRunFolder, haltMariadb, launchMariadb, startMariadb, startRedis, sweepStale, type MariadbControl, type RunFolder } from './services-daemons.js';
import { ensurePackages, findChromium } from './services-packages.js';

export const MYSQL_ENV = 'COURTSIDE_TEST_MYSQL_URL';
export const MARIADB_CONTROL_ENV = 'COURTSIDE_TEST_MARIADB';
export const REDIS_ENV = 'COURTSIDE_TEST_REDIS_URL';

export interface Services {
  env: Record<string, string>;
  /** Stops the private servers and removes their folder. */
  stop(): Promise<void>;
}

export interface SetUpOptions {
  /** The test files of this run: Redis is started only when one of them uses it. */
  files: string[];
  /** Missing packages end the run (the whole suite, or CI) instead of a warning (a few files). */
  strict: boolean;
  log: (line: string) => void;
}

function mentionsRedis(files: string[]): boolean {
  return files.some((f) => /\bredis\b/i.test(readFileSync(f, 'utf8')));
}

export async function setUpServices(opts: SetUpOptions): Promise<Services> {
  const env: Record<string, string> = {};
  const redis = !process.env[REDIS_ENV] && mentionsRedis(opts.files);
  const check = ensurePackages({ redis, log: opts.log });
  if (check.message) {
    if (opts.strict) throw new Error(check.message);
    opts.log(`warning: ${check.message}`);
  }
  const chromium = findChromium();
  if (chromium && !process.env.COURTSIDE_CHROMIUM) env.COURTSIDE_CHROMIUM = chromium;

  const needMysql = !process.env[MYSQL_ENV];
  if (!needMysql && !redis) return { env, stop: async () => {} };
  sweepStale(opts.log);
  const folder: RunFolder = createRunFolder();
  try {
    const started: string[] = [];
    const t0 = Date.now();
    if (needMysql) {
      const m = await startMariadb(folder);
      env[MYSQL_ENV] = m.url;
      env[MARIADB_CONTROL_ENV] = m.controlFile;
      started.push(`MariaDB on ${new URL(m.url).port}`);
    }
    if (redis) {
      const r = await startRedis(folder);
      env[REDIS_ENV] = r.url;
      started.push(`Redis on ${new URL(r.url).port}`);
    }
    opts.log(`private ${started.join(', ')} in ${folder.dir} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } catch (err) {
    await folder.close();
    throw err;
  }
  return { env, stop: () => folder.close() };
}

/**
 * The run's private MariaDB, for a test that takes it down and brings it back
 * (the same data, port and socket); undefined when the tests use a server of
 * their own (COURTSIDE_TEST_MYSQL_URL set before the run).
 */
export function privateMariadb(): { stop(): Promise<void>; start(): Promise<void> } | undefined {
  const file = process.env[MARIADB_CONTROL_ENV];
  if (!file) return undefined;
  const c = JSON.parse(readFileSync(file, 'utf8')) as MariadbControl;
  return { stop: () => haltMariadb(c), start: () => launchMariadb(c) };
}

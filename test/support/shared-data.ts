/**
 * Data the tests read but the repository does not hold (reference recordings,
 * vectors from the official NVS tool): it lives in `shared/` beside the
 * repository, so a clone in any folder with `shared/` next to it finds it.
 *
 * In CI (CI=true, set by .ci/run) missing data fails the run: a green run that
 * silently skipped the tests against real recordings proves nothing. Outside
 * CI the tests that need it are skipped with the reason.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
export const SHARED_DIR = resolve(REPO_ROOT, '../shared');
export const IN_CI = /^(1|true|yes)$/i.test(process.env.CI ?? '');

/** `rel` under shared/ beside the repository, or the folder named by `envVar` when set. */
export function sharedPath(rel: string, envVar?: string): string {
  const override = envVar ? process.env[envVar] : undefined;
  return override ? resolve(override) : resolve(SHARED_DIR, rel);
}

export interface SharedData {
  /** Whether the data is there. */
  present: boolean;
  /** The reason for node:test's `skip` outside CI when it is missing; `false` otherwise (in CI the tests run and fail). */
  skip: false | string;
  /** Why it is missing and how to provide it. */
  missing: string;
}

/** What the tests need to know about one shared data set at `path`. */
export function sharedData(what: string, path: string, present: boolean, envVar?: string): SharedData {
  const missing = `${what} not found at ${path}: put shared/ beside the repository` + (envVar ? ` or set ${envVar}` : '');
  return { present, skip: present || IN_CI ? false : missing, missing };
}

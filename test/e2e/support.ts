/**
 * End-to-end harness: the UI built by Vite (once, and again only when a
 * renderer file changed), a real gateway serving it, simulated boards, and
 * Debian's Chromium driven by playwright-core. Screenshots go to
 * test-output/e2e/.
 */
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestGateway, OPERATOR_TOKEN, type TestGateway } from '../support/gateway.js';
import type { GatewayOptions } from '../../main/gateway/index.js';
import { findChromium } from '../support/services-packages.js';

export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
/** COURTSIDE_CHROMIUM, else the first of the usual paths that exists. */
export const CHROMIUM = findChromium() ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
export const SHOTS = join(ROOT, 'test-output/e2e');
/** Where the tests' UI build goes; not dist/, so a test run never replaces what `npm run build:ui` made. */
export const UI_DIR = join(ROOT, 'test-output/e2e-ui');

/**
 * Skip reason when the browser is missing on a developer machine. Never in CI
 * (CI=true): there a missing browser must fail the run, not shrink it.
 */
export const noBrowser = existsSync(CHROMIUM) || process.env.CI ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const name of readdirSync(path)) m = Math.max(m, newest(join(path, name)));
  return m;
}

/** Builds the UI into UI_DIR unless the build there is newer than every source file. */
export async function buildUi(): Promise<string> {
  const index = join(UI_DIR, 'index.html');
  // The UI's client is the client library's: its sources count too.
  const sources = Math.max(newest(join(ROOT, 'renderer')), newest(join(ROOT, 'client/src')), newest(join(ROOT, 'vite.config.ts')));
  if (existsSync(index) && statSync(index).mtimeMs > sources) return UI_DIR;
  const { build } = await import('vite');
  await build({ configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn', build: { outDir: UI_DIR, emptyOutDir: true, sourcemap: false } });
  return UI_DIR;
}

export interface Harness {
  gw: TestGateway;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Page errors and console errors seen so far (a test asserts there are none). */
  errors: string[];
  /** Opens the UI signed in through the printed URL, at a view (`devices`, `live`...). */
  open(view?: string): Promise<void>;
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(opts: { gateway?: GatewayOptions; viewport?: { width: number; height: number }; timezoneId?: string; colorScheme?: 'light' | 'dark' } = {}): Promise<Harness> {
  const uiDir = await buildUi();
  mkdirSync(SHOTS, { recursive: true });
  const gw = await startTestGateway({ uiDir, ...opts.gateway });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  const context = await browser.newContext({ viewport: opts.viewport ?? { width: 1280, height: 800 }, acceptDownloads: true, ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}), ...(opts.colorScheme ? { colorScheme: opts.colorScheme } : {}) });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}${process.env.E2E_STACKS ? `\n${e.stack}` : ''}`));
  page.on('console', (m) => {
    // The session signal is optional (the view falls back without it); a 404 for it is not a failure.
    if (m.type() === 'error' && !(/\b404\b/.test(m.text()) && /\/signal\b/.test(m.location().url))) errors.push(`console: ${m.text()} (${m.location().url})`);
  });
  const base = `http://127.0.0.1:${gw.port}`;
  return {
    gw,
    browser,
    context,
    page,
    errors,
    async open(view = 'overview') {
      await page.goto(`${base}/?token=${OPERATOR_TOKEN}#/${view}`);
      await page.getByTestId('connection').filter({ hasText: 'Connected' }).waitFor({ timeout: 10_000 });
    },
    async shot(name) {
      const path = join(SHOTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await browser.close().catch(() => {});
      await gw.stop();
    },
  };
}

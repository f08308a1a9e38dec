/**
 * Builds the operator UI (renderer/) into dist/renderer, where the gateway
 * serves it at `/` (main/gateway/static.ts) for browsers and the Electron
 * window alike. The gateway's CSP allows only same-origin scripts, so the
 * build must emit no inline script: Vite's module-preload polyfill (inlined
 * otherwise) is off; every browser the UI targets preloads modules natively.
 *
 * `vite` (dev server) proxies the API and the operator socket to a running
 * gateway: COURTSIDE_GATEWAY, default http://127.0.0.1:8765.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const gateway = process.env.COURTSIDE_GATEWAY ?? 'http://127.0.0.1:8765';

export default defineConfig({
  root: here('./renderer'),
  base: '/',
  plugins: [
    svelte({
      compilerOptions: {
        // Views take their stores from the `app` prop once, on purpose: the shell re-creates a view
        // (a keyed block) whenever `app` changes, so "captures only the initial value" is the intent.
        warningFilter: (w) => w.code !== 'state_referenced_locally',
      },
    }),
  ],
  build: {
    outDir: here('./dist/renderer'),
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    sourcemap: true,
    // uPlot and the app together stay well under this; a jump means something heavy slipped in.
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: {
      '/api': gateway,
      '/ws/admin': { target: gateway.replace(/^http/, 'ws'), ws: true },
    },
  },
});

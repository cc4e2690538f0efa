// The Svelte renderer's Vite config, used twice: alone by `node scripts/build.mjs --renderer`
// (the browser build `workstation serve` hosts) and as the `renderer` section of
// electron.vite.config.ts, so the Electron window and the browser tab run the same bundle.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type UserConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

/** A fresh object per call: electron-vite adjusts the config it is given in place. */
export function rendererConfig(): UserConfig {
  return {
    root: path.join(root, 'src-renderer'),
    // Relative asset URLs work both from app://renderer/ (Electron) and http://host:port/ (serve).
    base: './',
    plugins: [svelte()],
    build: {
      outDir: path.join(root, 'out', 'renderer'),
      emptyOutDir: true,
      // Electron 45's Chromium and any current browser (Debian's Chromium in e2e).
      target: 'es2022',
      sourcemap: true,
      minify: false,
      reportCompressedSize: false,
      rolldownOptions: { input: path.join(root, 'src-renderer', 'index.html') },
    },
  };
}

export default defineConfig(rendererConfig());

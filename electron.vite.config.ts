// electron-vite: main process → out/main/index.js (ESM, package.json "main"), sandboxed preload
// → out/preload/index.cjs (a sandboxed preload must be CommonJS), renderer → out/renderer
// (shared with the browser build, see vite.renderer.config.ts). The Node side (service, CLI,
// workers) is bundled separately by scripts/build.mjs into out/node.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import { rendererConfig } from './vite.renderer.config';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  main: {
    build: {
      outDir: path.join(root, 'out', 'main'),
      sourcemap: true,
      rolldownOptions: { input: { index: path.join(root, 'src-main', 'electron', 'main.ts') } },
    },
  },
  preload: {
    build: {
      outDir: path.join(root, 'out', 'preload'),
      sourcemap: true,
      rolldownOptions: {
        input: { index: path.join(root, 'src-main', 'electron', 'preload', 'index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: rendererConfig(),
});

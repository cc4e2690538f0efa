// The layer rules in eslint.config.js (the folder table of CONVENTIONS.md) catch a forbidden import
// in every form it can take (static, `export … from`, dynamic `import()`, `require()`,
// `createRequire(…)(…)` and a bound createRequire, `import('…')` types) in .ts and .svelte files,
// judged by where the import resolves, and let the allowed ones through. Probes are linted by the
// project's eslint (its config, as `npm run lint` loads it) as if they stood in the real folders
// (the rules select files by path); nothing is written into the source tree, so a build or test
// running beside this one never sees them.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

interface Probe {
  /** folder inside the repo, and file extension */
  dir: string;
  ext: '.ts' | '.svelte' | '.mjs' | '.cjs';
  code: string;
  /** rule id and a piece of its message naming the boundary */
  rule?: string;
  says?: string;
}

interface LintMessage {
  ruleId: string | null;
  message: string;
  fatal?: boolean;
}

const eslint = new ESLint({ cwd: ROOT });

/** Lints a probe as if it were a file in its folder; its messages. */
async function lintProbe(p: Probe): Promise<LintMessage[]> {
  const filePath = path.join(ROOT, p.dir, `__lint_probe_${randomBytes(4).toString('hex')}${p.ext}`);
  const [r] = await eslint.lintText(p.code, { filePath });
  return r.messages;
}

const svelte = (script: string): string => `<script lang="ts">\n${script}\n  let count: number = 1;\n</script>\n\n<p>{count}</p>\n`;

const ml = 'src-main/ml';
const MLSAYS = 'src-main/ml may import src-shared, src-main/common, tfjs';
const RENDERER = 'src-renderer/src';
const RSAYS = 'the renderer imports src-shared only';

const refused: Record<string, Probe> = {
  'static import': { dir: ml, ext: '.ts', code: `import * as db from '../store/db';\nexport const probe = db;\n`, rule: 'layers/imports', says: MLSAYS },
  'export … from': { dir: ml, ext: '.ts', code: `export * from '../store/db';\n`, rule: 'layers/imports', says: MLSAYS },
  'dynamic import()': { dir: ml, ext: '.ts', code: `export const probe = () => import('../store/db');\n`, rule: 'layers/imports', says: MLSAYS },
  'dynamic import() of a template literal': {
    dir: ml,
    ext: '.ts',
    code: 'export const probe = () => import(`../store/db`);\n',
    rule: 'layers/imports',
    says: MLSAYS,
  },
  'require()': { dir: ml, ext: '.ts', code: `export const probe = require('../store/db');\n`, rule: 'layers/imports', says: MLSAYS },
  'createRequire(…)(…)': {
    dir: ml,
    ext: '.ts',
    code: `import { createRequire } from 'node:module';\nexport const probe = createRequire(import.meta.url)('../store/db');\n`,
    rule: 'layers/imports',
    says: MLSAYS,
  },
  'a createRequire bound under another name': {
    dir: ml,
    ext: '.ts',
    code: `import { createRequire } from 'node:module';\nexport const probe = () => load('../store');\nconst load = createRequire(import.meta.url);\n`,
    rule: 'layers/imports',
    says: MLSAYS,
  },
  "an import('…') type": { dir: ml, ext: '.ts', code: `export type Probe = import('../store/db').Db;\n`, rule: 'layers/imports', says: MLSAYS },
  'electron/ importing store/ as a folder': {
    dir: 'src-main/electron',
    ext: '.ts',
    code: `export * from '../store';\n`,
    rule: 'layers/imports',
    says: 'src-main/electron talks to the service API only',
  },
  'electron/ requiring tfjs-node-gpu, installed or not': {
    dir: 'src-main/electron',
    ext: '.ts',
    code: `export const probe = require('@tensorflow/tfjs-node-gpu');\n`,
    rule: 'layers/imports',
    says: 'src-main/electron talks to the service API only',
  },
  'data/ importing ml/ beyond augment/': {
    dir: 'src-main/data',
    ext: '.ts',
    code: `export const probe = () => import('../ml/trainer');\n`,
    rule: 'layers/imports',
    says: 'src-main/data may import src-shared, src-main/ml/augment',
  },
  'common/ importing a package': {
    dir: 'src-main/common',
    ext: '.ts',
    code: `import Database from 'better-sqlite3';\nexport const probe = Database;\n`,
    rule: 'layers/imports',
    says: 'src-main/common may import Node built-ins, src-shared and ws',
  },
  'service/ importing the CLI': {
    dir: 'src-main/service',
    ext: '.ts',
    code: `export { commands } from '../cli/commands/index';\n`,
    rule: 'layers/imports',
    says: 'src-main/service may import everything under src-main/ except electron/',
  },
  'scripts/ importing the CLI': {
    dir: 'scripts',
    ext: '.mjs',
    code: `export const probe = () => import('../src-main/cli/main');\n`,
    rule: 'layers/imports',
    says: 'nothing imports the CLI (src-main/cli) except tests/ and bin/',
  },
  'src-shared using Node': {
    dir: 'src-shared',
    ext: '.ts',
    code: `export const probe = () => import('node:fs');\n`,
    rule: 'layers/no-node-builtins',
    says: 'src-shared and the renderer use no Node APIs',
  },
  'a .svelte file importing src-main/': {
    dir: RENDERER,
    ext: '.svelte',
    code: svelte(`  import { selectBackend } from '../../src-main/ml/backend';\n  void selectBackend;`),
    rule: 'layers/imports',
    says: RSAYS,
  },
  'a .svelte file importing src-main/ dynamically': {
    dir: RENDERER,
    ext: '.svelte',
    code: svelte(`  const probe = () => import('../../src-main/store/db');\n  void probe;`),
    rule: 'layers/imports',
    says: RSAYS,
  },
  'a .svelte file importing electron': {
    dir: `${RENDERER}/components`,
    ext: '.svelte',
    code: svelte(`  import { ipcRenderer } from 'electron';\n  void ipcRenderer;`),
    rule: 'layers/imports',
    says: RSAYS,
  },
  'a .svelte file importing node:*': {
    dir: `${RENDERER}/views`,
    ext: '.svelte',
    code: svelte(`  import fs from 'node:fs';\n  void fs;`),
    rule: 'layers/no-node-builtins',
    says: 'src-shared and the renderer use no Node APIs',
  },
};

const allowed: Record<string, Probe> = {
  'ml/ using src-shared, common, tfjs, Node and itself in every form': {
    dir: ml,
    ext: '.ts',
    code: [
      `import { createRequire } from 'node:module';`,
      `import * as tf from '@tensorflow/tfjs';`,
      `import { WorkstationError } from '../../src-shared/errors';`,
      `import { packageRoot } from '../common/paths';`,
      `export * from './loss';`,
      `const load = createRequire(import.meta.url);`,
      `export const probe = [tf, WorkstationError, packageRoot, () => import('./metrics'), () => load('./backend'), () => require('./loss')];`,
      `export type Probe = import('./schedule/types').ScheduleFactory;`,
      ``,
    ].join('\n'),
  },
  'data/ using ml/augment and sharp': {
    dir: 'src-main/data',
    ext: '.ts',
    code: `import sharp from 'sharp';\nexport const probe = [sharp, () => import('../ml/augment/normalize')];\n`,
  },
  'service/ using store, ml, data and common': {
    dir: 'src-main/service',
    ext: '.ts',
    code: `export * from '../store/index';\nexport const probe = [() => import('../ml/trainer'), () => import('../data/preview'), () => import('../common/args')];\n`,
  },
  'bin/ and tests/ using the CLI': { dir: 'bin', ext: '.cjs', code: `module.exports = () => require('../src-main/cli/main');\n` },
  'tests/ using anything': {
    dir: 'tests/scripts',
    ext: '.ts',
    code: `export const probe = [() => import('../../src-main/cli/main'), () => import('../../src-main/electron/csp')];\n`,
  },
  'a .svelte file using src-shared, svelte and its own folder': {
    dir: RENDERER,
    ext: '.svelte',
    code: svelte(
      `  import { onMount } from 'svelte';\n  import { WorkstationError } from '../../src-shared/errors';\n  import { formatBytes } from './lib/format';\n  void [onMount, WorkstationError, formatBytes];`,
    ),
  },
};

describe('layer boundaries (eslint.config.js)', () => {
  it('refuses a forbidden import in every form and names the boundary', async () => {
    for (const [name, p] of Object.entries(refused)) {
      const messages = await lintProbe(p);
      expect(
        messages.filter((m) => m.fatal),
        name,
      ).toEqual([]);
      const hit = messages.find((m) => m.ruleId === p.rule);
      expect(hit, `${name}: ${JSON.stringify(messages)}`).toBeDefined();
      expect(hit!.message, name).toContain(p.says);
    }
  });

  it('lets the imports the table allows through', async () => {
    for (const [name, p] of Object.entries(allowed)) expect(await lintProbe(p), name).toEqual([]);
  });
});

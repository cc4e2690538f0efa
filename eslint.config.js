// Lint config. The import-boundary rules below keep the folder table in CONVENTIONS/ARCHITECTURE true.
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', '**/*.svelte', 'docs/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['src-shared/**/*.ts'],
    rules: restrict([
      {
        group: ['node:*', 'fs', 'path', 'os', 'child_process', 'electron', '**/src-main/**', '**/src-renderer/**', '@tensorflow/*', 'better-sqlite3', 'sharp'],
        message: 'src-shared may import nothing of ours and no Node/Electron/DOM APIs',
      },
    ]),
  },
  {
    files: ['src-main/electron/**/*.ts'],
    rules: restrict([
      { group: ['**/ml/**', '**/data/**', '**/store/**', '@tensorflow/*', 'better-sqlite3', 'sharp'], message: 'electron/ talks to the service API only' },
    ]),
  },
  {
    files: ['src-main/store/**/*.ts'],
    rules: restrict([
      { group: ['**/ml/**', '**/data/**', '**/service/**', '**/electron/**', 'electron', '@tensorflow/*'], message: 'store/ may import src-shared only' },
    ]),
  },
  {
    files: ['src-main/ml/**/*.ts'],
    rules: restrict([
      {
        group: ['**/store/**', '**/data/**', '**/service/**', '**/electron/**', 'electron', 'better-sqlite3'],
        message: 'ml/ may import src-shared and tfjs only',
      },
    ]),
  },
  {
    files: ['src-main/data/**/*.ts'],
    rules: restrict([
      { group: ['**/store/**', '**/service/**', '**/electron/**', 'electron', 'better-sqlite3'], message: 'data/ may import src-shared, ml/augment and sharp' },
    ]),
  },
  {
    files: ['src-main/service/**/*.ts', 'src-main/cli/**/*.ts'],
    rules: restrict([{ group: ['**/electron/**', 'electron'], message: 'service/ and cli/ never import electron' }]),
  },
  {
    files: ['src-renderer/**/*.ts'],
    rules: restrict([{ group: ['**/src-main/**', 'electron', 'node:*'], message: 'the renderer imports types from src-shared only' }]),
  },
);

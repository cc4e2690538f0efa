// Lint config. The layer rules below keep the folder table in CONVENTIONS.md and docs/ARCHITECTURE.md
// true: they check where an import RESOLVES to (not how its text reads), for static imports,
// `export … from`, dynamic `import()`, `require()`, `createRequire(…)(…)` and `import('…')` types,
// in .ts and .svelte files alike. tests/scripts/lint-boundaries.test.ts proves each form is caught.
import path from 'node:path';
import { isBuiltin } from 'node:module';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import svelte from 'eslint-plugin-svelte';

const root = import.meta.dirname;

// What each folder may import (CONVENTIONS.md). `may`: our folders besides its own (anything else
// of ours is refused, so a new folder is closed until the table names it). `only`: the npm packages
// it may use (all others refused); `not`: the packages it may not use. `node`: Node built-ins allowed.
const common = 'src-main/common';
const layers = [
  {
    folder: 'src-shared',
    may: [],
    only: ['zod'],
    node: false,
    why: 'src-shared imports nothing of ours and no Node/Electron APIs (a schema library is fine)',
  },
  {
    folder: common,
    may: ['src-shared'],
    only: ['ws'],
    node: true,
    why: 'src-main/common may import Node built-ins, src-shared and ws (the Node WebSocket client) only',
  },
  {
    folder: 'src-main/electron',
    may: ['src-shared', common],
    not: ['@tensorflow', 'better-sqlite3', 'sharp'],
    node: true,
    why: 'src-main/electron talks to the service API only: src-shared, src-main/common, electron; never ml/, data/, store/, service/, tfjs, better-sqlite3 or sharp',
  },
  {
    folder: 'src-main/store',
    may: ['src-shared', common],
    only: ['better-sqlite3'],
    node: true,
    why: 'src-main/store may import src-shared, src-main/common, better-sqlite3 and Node built-ins only',
  },
  {
    folder: 'src-main/ml',
    may: ['src-shared', common],
    only: ['@tensorflow'],
    node: true,
    why: 'src-main/ml may import src-shared, src-main/common, tfjs and Node built-ins only; never electron or store/',
  },
  {
    folder: 'src-main/data',
    may: ['src-shared', 'src-main/ml/augment', common],
    only: ['sharp'],
    node: true,
    why: 'src-main/data may import src-shared, src-main/ml/augment, src-main/common, sharp and Node built-ins only',
  },
  {
    folder: 'src-main/service',
    may: ['src-shared', common, 'src-main/store', 'src-main/ml', 'src-main/data'],
    not: ['electron'],
    node: true,
    why: 'src-main/service may import everything under src-main/ except electron/ (and the CLI, which nothing imports)',
  },
  {
    folder: 'src-main/cli',
    may: ['src-shared', common, 'src-main/service', 'src-main/store', 'src-main/ml', 'src-main/data'],
    not: ['electron'],
    node: true,
    why: 'src-main/cli may import service/, ml/, data/, store/, common/ and src-shared; never electron',
  },
  {
    folder: 'src-renderer',
    may: ['src-shared'],
    not: ['electron', '@tensorflow', 'better-sqlite3', 'sharp', 'ws'],
    node: false,
    why: 'the renderer imports src-shared only: never src-main/, electron or Node APIs',
  },
];
const tableRef = '(folder table, CONVENTIONS.md)';

const zones = layers.flatMap(({ folder, may, only, not, why }) => {
  const message = `${why} ${tableRef}`;
  const ours = { target: folder, from: '.', except: [folder, ...may, 'node_modules'], message };
  const packages = only
    ? { target: folder, from: 'node_modules', except: only, message }
    : { target: folder, from: not.map((p) => `node_modules/${p}`), message };
  return [ours, packages];
});
// Nothing imports the CLI but tests and bin/ (the layers above already refuse it).
zones.push({
  target: ['scripts', 'resources', `${root}/*.{js,mjs,cjs,ts,mts,cts}`],
  from: 'src-main/cli',
  message: `nothing imports the CLI (src-main/cli) except tests/ and bin/ ${tableRef}`,
});

// An import that does not resolve still has a place: a relative one where it points, a package
// where it would be installed (an optional dependency such as tfjs-node may be absent). Without
// this, import-x skips what it cannot resolve and a boundary would go unchecked.
const whereItWouldBe = {
  interfaceVersion: 3,
  name: 'layers:unresolved',
  resolve(source, file) {
    if (isBuiltin(source)) return { found: false };
    if (source.startsWith('.') || path.isAbsolute(source)) return { found: true, path: path.resolve(path.dirname(file), source) };
    return { found: true, path: path.join(root, 'node_modules', source) };
  },
};

// import-x checks import/export/import()/require() with a string literal. This also hands it what
// a `createRequire(…)` result loads (called directly, or under any name it is bound to), no-substitution
// template literals, and `import('…')` type references.
function seeEveryLoad(rule, messages = rule.meta.messages) {
  return {
    ...rule,
    meta: { ...rule.meta, messages },
    create(context) {
      const visit = rule.create(context);
      const createRequireNames = new Set(['createRequire']);
      const literal = (node) => {
        if (node?.type === 'TemplateLiteral' && node.expressions.length === 0) {
          return {
            type: 'Literal',
            value: node.quasis[0].value.cooked,
            raw: context.sourceCode.getText(node),
            range: node.range,
            loc: node.loc,
            parent: node.parent,
          };
        }
        return node;
      };
      const load = (at, spec) => {
        const source = literal(spec);
        if (source?.type === 'Literal' && typeof source.value === 'string') {
          visit.ImportExpression({ type: 'ImportExpression', source, range: at.range, loc: at.loc, parent: at.parent });
        }
      };
      const unwrap = (node) => {
        let n = node;
        while (['TSAsExpression', 'TSNonNullExpression', 'TSSatisfiesExpression', 'ChainExpression'].includes(n.parent?.type)) n = n.parent;
        return n;
      };
      const isCreateRequire = (callee) =>
        (callee.type === 'Identifier' && createRequireNames.has(callee.name)) ||
        (callee.type === 'MemberExpression' && !callee.computed && callee.property.name === 'createRequire');
      const callsOf = (variable) => {
        for (const ref of variable?.references ?? []) {
          // a binding named `require` is already checked as one
          if (ref.identifier.name === 'require') continue;
          const call = unwrap(ref.identifier).parent;
          if (call?.type === 'CallExpression' && unwrap(ref.identifier) === call.callee) load(call, call.arguments[0]);
        }
      };
      const findVariable = (node, name) => {
        for (let scope = context.sourceCode.getScope(node); scope; scope = scope.upper) {
          const v = scope.set.get(name);
          if (v) return v;
        }
        return undefined;
      };
      return {
        ...visit,
        Program(node) {
          for (const stmt of node.body) {
            if (stmt.type !== 'ImportDeclaration') continue;
            for (const s of stmt.specifiers) if (s.type === 'ImportSpecifier' && s.imported.name === 'createRequire') createRequireNames.add(s.local.name);
          }
          visit.Program?.(node);
        },
        ImportExpression(node) {
          visit.ImportExpression(node.source.type === 'TemplateLiteral' ? { ...node, source: literal(node.source) } : node);
        },
        TSImportType(node) {
          load(node, node.argument?.type === 'TSLiteralType' ? node.argument.literal : node.argument);
        },
        CallExpression(node) {
          visit.CallExpression(node);
          if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'TemplateLiteral')
            load(node, node.arguments[0]);
          if (!isCreateRequire(node.callee)) return;
          const used = unwrap(node);
          const parent = used.parent;
          if (parent?.type === 'CallExpression' && parent.callee === used) load(parent, parent.arguments[0]);
          else if (parent?.type === 'VariableDeclarator' && parent.id.type === 'Identifier') context.sourceCode.getDeclaredVariables(parent).forEach(callsOf);
          else if (parent?.type === 'AssignmentExpression' && parent.left.type === 'Identifier') callsOf(findVariable(parent, parent.left.name));
        },
      };
    },
  };
}

const layersPlugin = {
  meta: { name: 'layers' },
  rules: {
    imports: seeEveryLoad(importX.rules['no-restricted-paths']),
    'no-node-builtins': seeEveryLoad(importX.rules['no-nodejs-modules'], {
      builtin: `Node.js built-in "{{moduleName}}": src-shared and the renderer use no Node APIs ${tableRef}`,
    }),
  },
};

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'docs/**'] },
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    // <script lang="ts"> in components and runes modules (*.svelte.ts) parse with the TS parser
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    plugins: { layers: layersPlugin },
    settings: {
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.svelte.ts', '.js', '.mjs', '.cjs', '.svelte', '.json', '.node'],
          extensionAlias: { '.js': ['.ts', '.js'] },
          symlinks: false,
        }),
        whereItWouldBe,
      ],
    },
    rules: { 'layers/imports': ['error', { basePath: root, zones }] },
  },
  {
    files: ['src-shared/**', 'src-renderer/**'],
    rules: { 'layers/no-node-builtins': 'error' },
  },
);

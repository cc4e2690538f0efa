#!/usr/bin/env node
// Builds the optional native fast path of the data pipeline (native/jpeg-crop.c → out/native/jpeg_crop.node):
// a Node-API addon over the system libjpeg-turbo (Debian/Ubuntu: libjpeg62-turbo-dev or libjpeg-turbo8-dev).
// Node-API is ABI-stable, so one build serves Node and Electron. When no C compiler, Node headers or
// libjpeg headers are found this prints why and returns false: the pipeline then uses sharp alone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function nodeIncludeDir() {
  const candidates = [
    path.resolve(path.dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/include/nodejs/src',
    path.join(root, 'node_modules', 'node-api-headers', 'include'),
  ];
  return candidates.find((d) => existsSync(path.join(d, 'node_api.h'))) ?? null;
}

export function buildNative({ quiet = false } = {}) {
  const say = (m) => quiet || process.stderr.write(`build-native: ${m}\n`);
  if (process.platform === 'win32') {
    say('skipped on Windows (sharp path only)');
    return false;
  }
  const inc = nodeIncludeDir();
  if (!inc) {
    say('no node_api.h found (sharp path only)');
    return false;
  }
  const out = path.join(root, 'out', 'native', 'jpeg_crop.node');
  mkdirSync(path.dirname(out), { recursive: true });
  const cc = process.env.CC || 'cc';
  const args = ['-O3', '-fPIC', '-shared', `-I${inc}`, path.join(root, 'native', 'jpeg-crop.c'), '-o', out, '-ljpeg', '-lm'];
  if (process.platform === 'darwin')
    args.splice(3, 0, '-undefined', 'dynamic_lookup', '-I/opt/homebrew/opt/jpeg-turbo/include', '-L/opt/homebrew/opt/jpeg-turbo/lib');
  const r = spawnSync(cc, args, { encoding: 'utf8' });
  if (r.status !== 0) {
    say(`compiling failed (sharp path only): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(0, 3).join(' | ')}`);
    return false;
  }
  return true;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) process.exitCode = buildNative() ? 0 : 0; // never fails the install

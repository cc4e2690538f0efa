// Builds once before the suite: the Node bundles (CLI, service, decode worker) and, when stale,
// the renderer. Tests that spawn real processes, worker threads or a browser run the same
// artefacts users run, and parallel test files never race to rebuild them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function newest(dir: string): number {
  let t = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

function build(root: string, flag: string): void {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs'), flag], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`node scripts/build.mjs ${flag} failed`);
}

export default function setup(): void {
  const root = path.resolve(__dirname, '..');
  build(root, '--node');
  const html = path.join(root, 'out/renderer/index.html');
  const srcNewest = Math.max(newest(path.join(root, 'src-renderer')), newest(path.join(root, 'src-shared')));
  if (!fs.existsSync(html) || fs.statSync(html).mtimeMs < srcNewest) build(root, '--renderer');
}

// Builds once before the suite: the Node bundles (CLI, service, decode worker) and, when stale,
// the renderer (the same staleness rule `npm start` uses). Tests that spawn real processes,
// worker threads or a browser run the same artefacts users run, and parallel test files never
// race to rebuild them.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { staleTargets } from '../scripts/start-decision.mjs';

function build(root: string, flag: string): void {
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs'), flag], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`node scripts/build.mjs ${flag} failed`);
}

export default function setup(): void {
  const root = path.resolve(__dirname, '..');
  build(root, '--node');
  if (staleTargets(root, 'serve').some((t) => t.target === 'renderer')) build(root, '--renderer');
}

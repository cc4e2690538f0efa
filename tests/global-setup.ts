// Builds the Node bundles (CLI, service, decode worker) once before the suite: tests that spawn
// real processes or worker threads run the same bundles users run.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(__dirname, '..');
  const r = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--node'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building out/node failed');
}

// Where a run's checkpoints go by default: <dataDir>/runs/<id>/checkpoints. Run ids are per
// database: when another database on the same data dir already used that folder, a suffixed one
// is taken, so checkpoint rotation can never touch another run's files.
import fs from 'node:fs';
import path from 'node:path';

export function defaultCheckpointDir(runsDir: string, runId: number): string {
  const taken = (d: string): boolean => {
    try {
      return fs.readdirSync(d).length > 0;
    } catch {
      return false;
    }
  };
  const dir = path.join(runsDir, String(runId), 'checkpoints');
  if (!taken(dir)) return dir;
  for (let i = 2; ; i++) {
    const alt = path.join(runsDir, `${runId}-${i}`, 'checkpoints');
    if (!taken(alt)) return alt;
  }
}

// The initial weights a run started from (`workstation train --init-weights FILE`), recorded with
// the run: the file's path and sha256 in the run's 'note' event. A run interrupted before its first
// checkpoint restarts from scratch, and "from scratch" for such a run means from those weights
// again, not from the seeded random init; a file that is gone or changed since is refused by name
// (the restart would otherwise quietly be a different experiment).
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { RunEvent } from '../../src-shared/api/schemas';
import { WorkstationError } from '../../src-shared/errors';

/** sha256 (hex) of a file's bytes, read in chunks (a full-width ResNet-50 is ~100 MB). */
export function fileSha256(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(8 << 20);
    for (let n = fs.readSync(fd, buf, 0, buf.length, null); n > 0; n = fs.readSync(fd, buf, 0, buf.length, null)) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/** The 'note' event data that records a run's initial weights (path + sha256). */
export function initWeightsNote(file: string): { message: string; initWeights: string; initWeightsSha256: string } {
  let sha: string;
  try {
    sha = fileSha256(file);
  } catch (e) {
    throw new WorkstationError('NOT_FOUND', `initial weights ${file} cannot be read: ${(e as Error).message}`, { field: 'initWeights', path: file });
  }
  return { message: `initial weights from ${file}`, initWeights: file, initWeightsSha256: sha };
}

/**
 * The initial weights a restart from scratch of the run must load again (from its newest
 * init-weights note), or null for a run that started from the seeded random init. Throws NOT_FOUND
 * when the file is gone and CHECKPOINT_MISMATCH when its sha256 is no longer the recorded one.
 */
export function initWeightsForRestart(runId: number, events: readonly RunEvent[]): string | null {
  const note = [...events].reverse().find((e) => e.kind === 'note' && typeof e.data.initWeights === 'string');
  if (!note) return null;
  const file = note.data.initWeights as string;
  const recorded = typeof note.data.initWeightsSha256 === 'string' ? note.data.initWeightsSha256 : null; // older builds recorded the path only
  if (!fs.existsSync(file))
    throw new WorkstationError(
      'NOT_FOUND',
      `run ${runId} has no checkpoint yet, so it restarts from its initial weights ${file}, which are gone: put the file back, or start a new run`,
      { field: 'runId', path: file },
    );
  if (recorded !== null) {
    const now = fileSha256(file);
    if (now !== recorded)
      throw new WorkstationError(
        'CHECKPOINT_MISMATCH',
        `run ${runId} has no checkpoint yet, so it restarts from its initial weights ${file}, but that file changed since the run started (sha256 ${recorded.slice(0, 12)}…, now ${now.slice(0, 12)}…): restore it, or start a new run from the new file`,
        { field: 'runId', path: file },
      );
  }
  return file;
}

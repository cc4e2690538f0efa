// Fault injection for tests, read once by the entry points (service process, CLI) from the
// environment and passed down; library code never reads the environment.
//   WORKSTATION_FAULT_CHECKPOINT_WRITE=ENOSPC      every checkpoint write fails half-way with ENOSPC
//   WORKSTATION_FAULT_CHECKPOINT_WRITE=EIO:2       the next 2 writes fail with EIO, later ones succeed
// The failure happens after part of the temp file is written, as a full disk would do it.
import { WorkstationError } from '../../src-shared/errors';

export const FAULT_ENV = 'WORKSTATION_FAULT_CHECKPOINT_WRITE';

export interface Faults {
  /** hooks for the next checkpoint write (undefined: write normally) */
  checkpointWrite(): { afterPart(index: number, tempPath: string): void } | undefined;
}

export function parseFaults(env: NodeJS.ProcessEnv): Faults | undefined {
  const spec = env[FAULT_ENV];
  if (!spec) return undefined;
  const m = /^(E[A-Z]+)(?::(\d+))?$/.exec(spec.trim());
  if (!m) throw new WorkstationError('INVALID_ARGUMENT', `${FAULT_ENV} must look like ENOSPC or ENOSPC:2, got "${spec}"`, { field: FAULT_ENV });
  const code = m[1];
  let left = m[2] === undefined ? Infinity : Number(m[2]);
  return {
    checkpointWrite() {
      if (left <= 0) return undefined;
      left--;
      return {
        afterPart(index) {
          if (index === 2) throw Object.assign(new Error(`${code}: injected by ${FAULT_ENV}, write`), { code });
        },
      };
    },
  };
}

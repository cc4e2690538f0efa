// Fault injection for tests, read once by the entry points (service process, CLI) from the
// environment and passed down; library code never reads the environment.
//   WORKSTATION_FAULT_CHECKPOINT_WRITE=ENOSPC      every checkpoint write fails half-way with ENOSPC
//   WORKSTATION_FAULT_CHECKPOINT_WRITE=EIO:2       the next 2 writes fail with EIO, later ones succeed
// The failure happens after part of the temp file is written, as a full disk would do it.
//   WORKSTATION_TEST_STAND_IN_BACKEND=tensorflow      the native stand-in (cpu kernels registered as
//   WORKSTATION_TEST_STAND_IN_BACKEND=tensorflow-gpu  'tensorflow', kernels/native-stand-in.ts) is what
//       `backend: node|auto` (resp. `gpu|auto`, seeing a GPU) selects, so the native code path and the
//       self-test gate run on a machine without tfjs-node
//   WORKSTATION_FAULT_SELFTEST=WsFusedBatchNorm[:1.02]  that workstation kernel's first output on the
//       'tensorflow' backend is scaled by the factor (default 1.02), as a miscompiled kernel would be:
//       the self-test's comparison then really fails
//   WORKSTATION_TEST_GPU_SAMPLE_MS=200               nvidia-smi is sampled this often while a run trains
// The backend parts are applied by test-backends.ts (it loads tfjs) when a run's backend is chosen.
import { WorkstationError } from '../../src-shared/errors';

export const FAULT_ENV = 'WORKSTATION_FAULT_CHECKPOINT_WRITE';
export const STAND_IN_BACKEND_ENV = 'WORKSTATION_TEST_STAND_IN_BACKEND';
export const FAULT_SELFTEST_ENV = 'WORKSTATION_FAULT_SELFTEST';
export const GPU_SAMPLE_MS_ENV = 'WORKSTATION_TEST_GPU_SAMPLE_MS';

/** the kernels WORKSTATION_FAULT_SELFTEST may perturb (ml/kernels/names.ts; not imported: it would load tfjs) */
const PERTURBABLE = ['WsConv2D', 'WsConv2DBackpropInput', 'WsConv2DBackpropFilter', 'WsFusedBatchNorm', 'WsBatchNormGrad', 'WsSgdUpdate', 'WsColorJitter'];

export interface Faults {
  /** hooks for the next checkpoint write (undefined: write normally) */
  checkpointWrite(): { afterPart(index: number, tempPath: string): void } | undefined;
  /** the native stand-in to register before a run picks its backend */
  standInBackend?: 'tensorflow' | 'tensorflow-gpu';
  /** a workstation kernel whose first output is scaled on the 'tensorflow' backend */
  perturbKernel?: { kernel: string; factor: number };
  /** how often nvidia-smi is sampled while a run trains (ms) */
  gpuSampleMs?: number;
}

function checkpointFault(spec: string | undefined): Faults['checkpointWrite'] {
  if (!spec) return () => undefined;
  const m = /^(E[A-Z]+)(?::(\d+))?$/.exec(spec.trim());
  if (!m) throw new WorkstationError('INVALID_ARGUMENT', `${FAULT_ENV} must look like ENOSPC or ENOSPC:2, got "${spec}"`, { field: FAULT_ENV });
  const code = m[1];
  let left = m[2] === undefined ? Infinity : Number(m[2]);
  return () => {
    if (left <= 0) return undefined;
    left--;
    return {
      afterPart(index) {
        if (index === 2) throw Object.assign(new Error(`${code}: injected by ${FAULT_ENV}, write`), { code });
      },
    };
  };
}

export function parseFaults(env: NodeJS.ProcessEnv): Faults | undefined {
  const ckpt = env[FAULT_ENV];
  const standIn = env[STAND_IN_BACKEND_ENV]?.trim();
  const perturb = env[FAULT_SELFTEST_ENV]?.trim();
  const sampleMs = env[GPU_SAMPLE_MS_ENV]?.trim();
  if (!ckpt && !standIn && !perturb && !sampleMs) return undefined;
  const faults: Faults = { checkpointWrite: checkpointFault(ckpt) };
  if (standIn) {
    if (standIn !== 'tensorflow' && standIn !== 'tensorflow-gpu')
      throw new WorkstationError('INVALID_ARGUMENT', `${STAND_IN_BACKEND_ENV} must be tensorflow or tensorflow-gpu, got "${standIn}"`, {
        field: STAND_IN_BACKEND_ENV,
      });
    faults.standInBackend = standIn;
  }
  if (perturb) {
    const m = /^(\w+)(?::([0-9.]+))?$/.exec(perturb);
    const factor = m?.[2] === undefined ? 1.02 : Number(m[2]);
    if (!m || !PERTURBABLE.includes(m[1]) || !Number.isFinite(factor) || factor === 1)
      throw new WorkstationError(
        'INVALID_ARGUMENT',
        `${FAULT_SELFTEST_ENV} must be one of ${PERTURBABLE.join(', ')}, optionally :factor (≠ 1), got "${perturb}"`,
        {
          field: FAULT_SELFTEST_ENV,
        },
      );
    faults.perturbKernel = { kernel: m[1], factor };
  }
  if (sampleMs) {
    const ms = Number(sampleMs);
    if (!Number.isInteger(ms) || ms < 10)
      throw new WorkstationError('INVALID_ARGUMENT', `${GPU_SAMPLE_MS_ENV} must be a whole number of milliseconds ≥ 10, got "${sampleMs}"`, {
        field: GPU_SAMPLE_MS_ENV,
      });
    faults.gpuSampleMs = ms;
  }
  return faults;
}

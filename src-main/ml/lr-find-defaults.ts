// The range test's defaults (fastai's lr_find: 100 steps from 1e-7 to 10, β 0.98, stop at 4× the
// best smoothed loss), apart from lr-find.ts so `workstation help lr-find` does not load tfjs.
export const LR_FIND_DEFAULTS = { steps: 100, minLr: 1e-7, maxLr: 10, beta: 0.98, divergeFactor: 4 } as const;

// torch.optim.SGD's per-parameter update (see optim/sgd.ts) as a loop over float32 data, rounding
// after every operation exactly as the composite path's tensor ops do on the cpu backend (each
// scalar is a float32 tensor there too), so both paths give bit-identical results on cpu.
type Values = ArrayLike<number>;

export interface SgdScalars {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

const f32 = Math.fround;

/** New parameter values and (momentum != 0) the new momentum buffer. `buf` null: first step. */
export function sgdUpdate(p: Values, g: Values, buf: Values | null, decay: boolean, s: SgdScalars): { p: Float32Array; buf: Float32Array | null } {
  const n = p.length;
  const wd = decay && s.weightDecay !== 0 ? f32(s.weightDecay) : 0;
  const lr = f32(s.lr);
  const m = f32(s.momentum);
  const damp = f32(1 - s.dampening);
  const outP = new Float32Array(n);
  const outB = s.momentum !== 0 ? new Float32Array(n) : null;
  for (let i = 0; i < n; i++) {
    let d = wd !== 0 ? f32(g[i] + f32(p[i] * wd)) : g[i];
    if (outB) {
      const b = buf === null ? d : f32(f32(buf[i] * m) + (s.dampening === 0 ? d : f32(d * damp)));
      outB[i] = b;
      d = s.nesterov ? f32(d + f32(b * m)) : b;
    }
    outP[i] = f32(p[i] - f32(d * lr));
  }
  return { p: outP, buf: outB };
}

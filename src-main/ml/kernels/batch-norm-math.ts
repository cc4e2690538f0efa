// Training-mode batch norm (+ residual, + ReLU) and its gradient as plain loops over NHWC float
// data, channels last. Shared by the cpu kernels (cpu/batch-norm.ts) and the stand-in that plays
// TensorFlow's FusedBatchNormV3 / FusedBatchNormGradV3 for kernel counting (native-stand-in.ts).
// Sums run in float64; results are stored as float32 like a tensor op. The running-statistics
// blend rounds each op to float32 in the order of the composite path (models/resnet.ts), so both
// paths give the same running statistics on the cpu backend.
type Values = ArrayLike<number>;

export interface BnForwardResult {
  y: Float32Array;
  runningMean: Float32Array;
  runningVariance: Float32Array;
  /** batch mean and biased batch variance (what the gradient needs) */
  mean: Float32Array;
  variance: Float32Array;
}

const f32 = Math.fround;

export function bnForward(
  x: Values,
  channels: number,
  scale: Values,
  offset: Values,
  runMean: Values,
  runVar: Values,
  o: { epsilon: number; momentum: number; relu: boolean; residual?: Values | null },
): BnForwardResult {
  const c = channels;
  const rows = x.length / c;
  const sum = new Float64Array(c);
  for (let r = 0, i = 0; r < rows; r++) for (let k = 0; k < c; k++, i++) sum[k] += x[i];
  const mean64 = new Float64Array(c);
  for (let k = 0; k < c; k++) mean64[k] = sum[k] / rows;
  const sq = new Float64Array(c);
  for (let r = 0, i = 0; r < rows; r++)
    for (let k = 0; k < c; k++, i++) {
      const d = x[i] - mean64[k];
      sq[k] += d * d;
    }
  const mean = new Float32Array(c);
  const variance = new Float32Array(c);
  const mul = new Float64Array(c);
  const add = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    mean[k] = mean64[k];
    variance[k] = sq[k] / rows;
    const inv = 1 / Math.sqrt(variance[k] + o.epsilon);
    mul[k] = scale[k] * inv;
    add[k] = offset[k] - mean[k] * mul[k];
  }
  const y = new Float32Array(x.length);
  const res = o.residual ?? null;
  for (let r = 0, i = 0; r < rows; r++)
    for (let k = 0; k < c; k++, i++) {
      let v = f32(x[i] * mul[k] + add[k]);
      if (res) v = f32(v + res[i]);
      y[i] = o.relu && v < 0 ? 0 : v;
    }
  // PyTorch keeps the unbiased batch variance in running_var
  const unbias = rows > 1 ? rows / (rows - 1) : 1;
  const keep = f32(1 - o.momentum);
  const m = f32(o.momentum);
  const mv = f32(o.momentum * unbias);
  const runningMean = new Float32Array(c);
  const runningVariance = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    runningMean[k] = f32(f32(runMean[k] * keep) + f32(mean[k] * m));
    runningVariance[k] = f32(f32(runVar[k] * keep) + f32(variance[k] * mv));
  }
  return { y, runningMean, runningVariance, mean, variance };
}

export interface BnBackwardResult {
  dx: Float32Array;
  dscale: Float32Array;
  doffset: Float32Array;
  /** the gradient after the ReLU (= at the residual input); dy itself without relu */
  dz: Values;
}

/** `y` (the forward output) is needed only with relu: the ReLU passes dy where y > 0. */
export function bnBackward(
  dy: Values,
  x: Values,
  channels: number,
  scale: Values,
  mean: Values,
  variance: Values,
  o: { epsilon: number; y?: Values | null },
): BnBackwardResult {
  const c = channels;
  const rows = x.length / c;
  let dz: Values = dy;
  if (o.y) {
    const y = o.y;
    const z = new Float32Array(dy.length);
    for (let i = 0; i < z.length; i++) z[i] = y[i] > 0 ? dy[i] : 0;
    dz = z;
  }
  const inv = new Float64Array(c);
  for (let k = 0; k < c; k++) inv[k] = 1 / Math.sqrt(variance[k] + o.epsilon);
  const sumDz = new Float64Array(c);
  const sumDzX = new Float64Array(c);
  for (let r = 0, i = 0; r < rows; r++)
    for (let k = 0; k < c; k++, i++) {
      const g = dz[i];
      sumDz[k] += g;
      sumDzX[k] += g * (x[i] - mean[k]);
    }
  const a = new Float64Array(c); // dx = a·dz + b·x + cc
  const b = new Float64Array(c);
  const cc = new Float64Array(c);
  const dscale = new Float32Array(c);
  const doffset = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    const dxhatSum = sumDzX[k] * inv[k]; // Σ dz·x̂
    dscale[k] = dxhatSum;
    doffset[k] = sumDz[k];
    a[k] = scale[k] * inv[k];
    b[k] = (-a[k] * inv[k] * dxhatSum) / rows;
    cc[k] = (-a[k] * sumDz[k]) / rows - b[k] * mean[k];
  }
  const dx = new Float32Array(x.length);
  for (let r = 0, i = 0; r < rows; r++) for (let k = 0; k < c; k++, i++) dx[i] = a[k] * dz[i] + b[k] * x[i] + cc[k];
  return { dx, dscale, doffset, dz };
}

// Sparse confusion counts: how often class `true` was predicted as `predicted`, for true ≠
// predicted (the diagonal is the per-class top-1 in class-stats.ts). Only pairs that occurred are
// kept, so memory is bounded by the number of mistakes, never by classes² (1,000,000 for ImageNet).
import type { EvalConfusion } from '../../../src-shared/api/schemas';

export class ConfusionCounts {
  private readonly counts = new Map<number, number>();

  /** `outputs`: the model's class count (predicted indices are below it) */
  constructor(private readonly outputs: number) {}

  add(trueClass: number, predicted: number): void {
    if (trueClass === predicted) return;
    const key = trueClass * this.outputs + predicted;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  get size(): number {
    return this.counts.size;
  }

  /** every pair with a count, most frequent first (ties: by true class, then predicted class) */
  list(): EvalConfusion[] {
    return [...this.counts.entries()]
      .map(([key, count]) => ({ true: Math.floor(key / this.outputs), predicted: key % this.outputs, count }))
      .sort((a, b) => b.count - a.count || a.true - b.true || a.predicted - b.predicted);
  }
}

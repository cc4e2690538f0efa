// Per-class counts of an evaluation: images, top-1 and top-5 hits per true class. Three integer
// arrays the size of the class list, whatever the number of images (a 50,000-image ImageNet
// validation set needs 12 KB here).
import type { EvalClass } from '../../../src-shared/api/schemas';
import { WorkstationError } from '../../../src-shared/errors';

export interface ClassInfo {
  wnid: string;
  name: string;
}

export class ClassStats {
  private readonly images: Int32Array;
  private readonly top1: Int32Array;
  private readonly top5: Int32Array;

  constructor(readonly numClasses: number) {
    this.images = new Int32Array(numClasses);
    this.top1 = new Int32Array(numClasses);
    this.top5 = new Int32Array(numClasses);
  }

  add(label: number, top1Hit: boolean, top5Hit: boolean): void {
    if (!Number.isInteger(label) || label < 0 || label >= this.numClasses)
      throw new WorkstationError('INVALID_ARGUMENT', `label ${label} is outside the ${this.numClasses} classes`, { field: 'labels' });
    this.images[label]++;
    if (top1Hit) this.top1[label]++;
    if (top5Hit) this.top5[label]++;
  }

  /** one row per class of the list, in class order; percentages are null for a class without images */
  rows(classes: readonly ClassInfo[] | null): EvalClass[] {
    return Array.from({ length: this.numClasses }, (_, c) => {
      const n = this.images[c];
      return {
        classIndex: c,
        wnid: classes?.[c]?.wnid ?? null,
        name: classes?.[c]?.name ?? null,
        images: n,
        top1: n > 0 ? (100 * this.top1[c]) / n : null,
        top5: n > 0 ? (100 * this.top5[c]) / n : null,
      };
    });
  }

  /** totals over all classes: images and top-1 / top-5 hits */
  totals(): { images: number; top1: number; top5: number } {
    const sum = (a: Int32Array) => a.reduce((s, v) => s + v, 0);
    return { images: sum(this.images), top1: sum(this.top1), top5: sum(this.top5) };
  }
}

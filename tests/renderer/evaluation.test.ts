// What the Evaluation view derives from a stored evaluation (src-renderer/src/lib/evaluation.ts):
// the per-class table's sort orders (classes without images last, ties by class index) and
// filter, the mistakes of a class or a confusion pair (most confident first) and their totals.
import { describe, expect, it } from 'vitest';
import type { EvalClass, EvalMistake } from '../../src-shared/api/schemas';
import { className, mistakeCount, mistakesFor, selectionTitle, sortClasses } from '../../src-renderer/src/lib/evaluation';

const perClass: EvalClass[] = [
  { classIndex: 0, wnid: 'n01', name: 'tench', images: 4, top1: 50, top5: 100 },
  { classIndex: 1, wnid: 'n02', name: 'goldfish', images: 2, top1: 100, top5: 100 },
  { classIndex: 2, wnid: 'n03', name: null, images: 0, top1: null, top5: null },
  { classIndex: 3, wnid: 'n04', name: 'axolotl', images: 4, top1: 50, top5: 75 },
];
const m = (classIndex: number, predicted: number, confidence: number, sampleId: number): EvalMistake => ({
  classIndex,
  predicted,
  confidence,
  trueProb: 0.1,
  path: `/v/${sampleId}.JPEG`,
  sampleId,
});
const ev = {
  perClass,
  confusions: [
    { true: 0, predicted: 1, count: 2 },
    { true: 3, predicted: 0, count: 2 },
  ],
  mistakes: [m(0, 1, 0.6, 1), m(0, 1, 0.9, 0), m(3, 0, 0.7, 9), m(3, 0, 0.7, 8)],
};

describe('evaluation view helpers', () => {
  it('sorts the per-class table by accuracy, images or name; empty classes last; filters by name or wnid', () => {
    expect(sortClasses(perClass, 'top1', 'asc').map((c) => c.classIndex)).toEqual([0, 3, 1, 2]);
    expect(sortClasses(perClass, 'top1', 'desc').map((c) => c.classIndex)).toEqual([1, 0, 3, 2]);
    expect(sortClasses(perClass, 'top5', 'asc').map((c) => c.classIndex)).toEqual([3, 0, 1, 2]);
    expect(sortClasses(perClass, 'name', 'asc').map((c) => c.classIndex)).toEqual([3, 1, 0, 2]);
    expect(sortClasses(perClass, 'images', 'desc').map((c) => c.classIndex)).toEqual([0, 3, 1, 2]);
    expect(sortClasses(perClass, 'top1', 'asc', 'FISH').map((c) => c.classIndex)).toEqual([1]);
    expect(sortClasses(perClass, 'top1', 'asc', 'n04').map((c) => c.classIndex)).toEqual([3]);
    expect(className(perClass, 2)).toBe('n03');
    expect(className(perClass, 7)).toBe('class 7');
  });

  it("picks a class's or a pair's mistakes, most confident first, and counts all of them", () => {
    expect(mistakesFor(ev, { kind: 'all' }).map((x) => x.sampleId)).toEqual([0, 8, 9, 1]);
    expect(mistakesFor(ev, { kind: 'class', classIndex: 3 }).map((x) => x.sampleId)).toEqual([8, 9]);
    expect(mistakesFor(ev, { kind: 'pair', true: 0, predicted: 1 }).map((x) => x.confidence)).toEqual([0.9, 0.6]);
    expect(mistakesFor(ev, { kind: 'pair', true: 1, predicted: 0 })).toEqual([]);
    expect(mistakeCount(ev, { kind: 'class', classIndex: 0 })).toBe(2);
    expect(mistakeCount(ev, { kind: 'pair', true: 3, predicted: 0 })).toBe(2);
    expect(mistakeCount(ev, { kind: 'all' })).toBe(4);
    expect(selectionTitle(ev, { kind: 'pair', true: 3, predicted: 0 })).toBe('axolotl → tench');
  });
});

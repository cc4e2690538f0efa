// The highest-confidence mistakes of each class, at most `perClass` each: what the mistakes
// gallery shows. Each class keeps a short list sorted by the predicted class's probability
// (highest first; ties by sample id), so a 50,000-image evaluation holds classes × perClass
// entries, never every prediction.
import type { EvalMistake } from '../../../src-shared/api/schemas';

export class TopMistakes {
  private readonly lists = new Map<number, EvalMistake[]>();

  constructor(readonly perClass: number) {}

  private static before(a: EvalMistake, b: EvalMistake): boolean {
    return a.confidence > b.confidence || (a.confidence === b.confidence && a.sampleId < b.sampleId);
  }

  /** Offers a mistake; kept when it is among its class's `perClass` most confident. */
  offer(m: EvalMistake): void {
    if (this.perClass <= 0) return;
    const list = this.lists.get(m.classIndex) ?? [];
    if (list.length === this.perClass && !TopMistakes.before(m, list[list.length - 1])) return;
    let i = list.length;
    while (i > 0 && TopMistakes.before(m, list[i - 1])) i--;
    list.splice(i, 0, m);
    if (list.length > this.perClass) list.pop();
    this.lists.set(m.classIndex, list);
  }

  /** Would a mistake of this class at this confidence be kept? (lets the caller skip building it) */
  wants(classIndex: number, confidence: number): boolean {
    const list = this.lists.get(classIndex);
    return this.perClass > 0 && (!list || list.length < this.perClass || confidence >= list[list.length - 1].confidence);
  }

  /** all kept mistakes: by class, each class's most confident first */
  list(): EvalMistake[] {
    return [...this.lists.keys()].sort((a, b) => a - b).flatMap((c) => this.lists.get(c) ?? []);
  }
}

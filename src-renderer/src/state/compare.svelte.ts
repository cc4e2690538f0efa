// The runs chosen for comparison in the Runs view (any runs, in the order they were picked: the
// order gives each its colour), and the runs list's filter (text over names and notes, tags).
class CompareStore {
  selected = $state<number[]>([]);
  /** text matched against name and notes, case-insensitive */
  text = $state('');
  /** a run must carry every one of these tags */
  tags = $state<string[]>([]);

  toggle(runId: number): void {
    this.selected = this.selected.includes(runId) ? this.selected.filter((id) => id !== runId) : [...this.selected, runId];
  }

  toggleTag(tag: string): void {
    this.tags = this.tags.includes(tag) ? this.tags.filter((t) => t !== tag) : [...this.tags, tag];
  }

  /** drops runs that no longer exist (deleted) */
  keep(ids: readonly number[]): void {
    if (this.selected.some((id) => !ids.includes(id))) this.selected = this.selected.filter((id) => ids.includes(id));
  }
}

export const compare = new CompareStore();

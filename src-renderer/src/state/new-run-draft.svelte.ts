// The new-run form's draft: kept while the user looks at other views, until the run is started or
// the draft is discarded (navigating away and back used to reset the form).
import type { DatasetSummary } from '../../../src-shared/api/schemas';
import { defaultForm, type RunForm } from '../lib/run-form';

class NewRunDraft {
  /** the form's fields (one object for the app's lifetime: views bind to it) */
  readonly form = $state<RunForm>(defaultForm());
  /** the dataset check of the current dataset choice, and what it was for */
  dataset = $state<DatasetSummary | null>(null);
  checkedFor = $state<string | null>(null);
  datasetError = $state<string | null>(null);

  /** what the dataset check must have been run for: the demo dataset, or this folder */
  key(): string {
    return this.form.datasetMode === 'demo' ? 'demo' : `folder:${this.form.root.trim()}`;
  }

  discard(): void {
    Object.assign(this.form, defaultForm());
    this.dataset = null;
    this.checkedFor = null;
    this.datasetError = null;
  }
}

export const newRunDraft = new NewRunDraft();

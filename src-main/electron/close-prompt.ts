// What closing the window means while the service is busy. Pure: main.ts shows the dialog and
// acts on the returned choice.
import type { ServiceState } from '../../src-shared/api/schemas';

export type CloseChoice = 'stop' | 'background' | 'cancel';

/** The run that keeps the service busy, or null when closing can simply quit. */
export function busyRun(state: ServiceState | null): { id: number; name: string; status: string } | null {
  if (!state) return null;
  const run = state.activeRun;
  if (run && (run.status === 'running' || run.status === 'paused' || run.status === 'queued')) return { id: run.id, name: run.name, status: run.status };
  return null;
}

export interface ClosePrompt {
  type: 'question';
  title: string;
  message: string;
  detail: string;
  buttons: string[];
  defaultId: number;
  cancelId: number;
  noLink: true;
}

const BUTTONS: { label: string; choice: CloseChoice }[] = [
  { label: 'Keep training in the background', choice: 'background' },
  { label: 'Stop the run', choice: 'stop' },
  { label: 'Cancel', choice: 'cancel' },
];

export function closePrompt(run: { name: string; status: string }, queued: number): ClosePrompt {
  const more = queued > 0 ? ` ${queued} more run${queued === 1 ? ' is' : 's are'} queued.` : '';
  return {
    type: 'question',
    title: 'A run is training',
    message: `“${run.name}” is ${run.status === 'paused' ? 'paused' : 'training'}. Close the window anyway?`,
    detail:
      'Keep training in the background: the training service keeps running without the window; ' +
      'open the app again to reattach and see the live run.\n' +
      `Stop the run: the current step finishes, a checkpoint is kept, and the app quits.${more}`,
    buttons: BUTTONS.map((b) => b.label),
    defaultId: 0,
    cancelId: 2,
    noLink: true,
  };
}

export function closeChoice(response: number): CloseChoice {
  return BUTTONS[response]?.choice ?? 'cancel';
}

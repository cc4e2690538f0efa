// The folder picker behind window.workstation.pickFolder (the dataset root in the New run form):
// what the renderer may ask for and what comes back. Pure; ipc-bridge.ts shows the dialog.
import type { OpenDialogOptions, OpenDialogReturnValue } from 'electron';
import { WorkstationError } from '../../src-shared/errors';

/** Dialog options for one folder; the title is renderer input, so it is checked and bounded. */
export function folderDialogOptions(title: unknown): OpenDialogOptions {
  if (title !== undefined && title !== null && typeof title !== 'string') {
    throw new WorkstationError('INVALID_ARGUMENT', 'pickFolder(title?: string): title must be a string', { field: 'title' });
  }
  const t = typeof title === 'string' && title.trim() ? title.trim().slice(0, 200) : 'Choose a folder';
  return { title: t, properties: ['openDirectory', 'createDirectory', 'dontAddToRecent'] };
}

/** The chosen folder, or null when the user cancelled. */
export function pickedFolder(res: Pick<OpenDialogReturnValue, 'canceled' | 'filePaths'>): string | null {
  return res.canceled ? null : (res.filePaths[0] ?? null);
}

// The folder picker's contract (window.workstation.pickFolder): the options Electron's
// showOpenDialog receives and what the renderer gets back (no Electron binary on CI machines).
import { describe, expect, it } from 'vitest';
import { folderDialogOptions, pickedFolder } from '../../src-main/electron/folder-dialog';
import { IPC_CHANNELS } from '../../src-main/electron/ipc-channels';
import { WorkstationError } from '../../src-shared/errors';

describe('folder picker', () => {
  it('opens a directory-only dialog with the asked title, or a default one', () => {
    const o = folderDialogOptions('Choose the ImageNet folder');
    expect(o.title).toBe('Choose the ImageNet folder');
    expect(o.properties).toContain('openDirectory');
    expect(o.properties).not.toContain('openFile');
    expect(o.properties).not.toContain('multiSelections');
    expect(folderDialogOptions(null).title).toBe('Choose a folder');
    expect(folderDialogOptions(undefined).title).toBe('Choose a folder');
    expect(folderDialogOptions('   ').title).toBe('Choose a folder');
    expect(folderDialogOptions('x'.repeat(1000)).title).toHaveLength(200);
  });

  it('refuses a title that is not a string (renderer input is untrusted)', () => {
    expect(() => folderDialogOptions({ toString: () => 'x' })).toThrow(WorkstationError);
    expect(() => folderDialogOptions(42)).toThrow(/title must be a string/);
  });

  it('answers the chosen folder, or null when cancelled', () => {
    expect(pickedFolder({ canceled: false, filePaths: ['/data/imagenet'] })).toBe('/data/imagenet');
    expect(pickedFolder({ canceled: true, filePaths: ['/data/imagenet'] })).toBeNull();
    expect(pickedFolder({ canceled: false, filePaths: [] })).toBeNull();
  });

  it('has its own IPC channel', () => {
    const names = Object.values(IPC_CHANNELS);
    expect(IPC_CHANNELS.pickFolder).toBe('workstation:pick-folder');
    expect(new Set(names).size).toBe(names.length);
  });
});

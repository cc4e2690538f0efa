// IPC channel names shared by the preload script and main (one definition, no string drift).
export const IPC_CHANNELS = {
  call: 'workstation:call',
  event: 'workstation:event',
  saveFile: 'workstation:save-file',
  pickFolder: 'workstation:pick-folder',
} as const;

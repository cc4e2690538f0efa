// IPC channel names shared by the preload script and main (one definition, no string drift).
// `request` carries the contract's request envelopes from the renderer to main, `message` the
// response and event envelopes back; the dialogs have their own invoke channels.
export const IPC_CHANNELS = {
  request: 'workstation:request',
  message: 'workstation:message',
  saveFile: 'workstation:save-file',
  pickFolder: 'workstation:pick-folder',
} as const;

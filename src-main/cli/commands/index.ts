// The CLI command registry: name → lazily loaded module (so `workstation --help` does not load tfjs).
// Each module default-exports a CommandSpec. Keep groups sorted by subsystem.
import type { CommandEntry } from '../command';

export const COMMAND_ENTRIES: CommandEntry[] = [
  // --- engine (ml) ---
  // --- data ---
  // --- store / service ---
  // --- app ---
];

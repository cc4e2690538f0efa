// What a CLI command is: a name ("model summary"), its flags, and a run function that talks
// to the user only through `io` (stdout for results, stderr for progress).
import type { FlagSpec, ParsedArgs, PositionalSpec } from '../common/args';

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** resolves when the user interrupts (SIGINT/SIGTERM); long-running commands watch it */
  signal: AbortSignal;
}

export interface CommandSpec {
  /** words after `workstation`, e.g. "model summary" */
  name: string;
  summary: string;
  flags: Record<string, FlagSpec>;
  positionals?: PositionalSpec[];
  /** returns the process exit code */
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<{ default: CommandSpec }>;
}

/** A heading in `workstation --help` and the commands under it, in the order shown. */
export interface CommandGroup {
  title: string;
  entries: CommandEntry[];
}

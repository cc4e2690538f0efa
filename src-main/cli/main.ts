// `workstation` CLI entry: finds the command (longest matching word prefix), parses its flags,
// runs it, prints typed errors as one clear line.
import { isWorkstationError, toWireError } from '../../src-shared/errors';
import { parseArgs } from '../common/args';
import type { CliIO, CommandEntry } from './command';
import { COMMAND_ENTRIES } from './commands/index';

function findCommand(argv: string[]): { entry: CommandEntry; rest: string[] } | undefined {
  let best: { entry: CommandEntry; rest: string[] } | undefined;
  for (const entry of COMMAND_ENTRIES) {
    const words = entry.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.entry.name.split(' ').length)) {
      best = { entry, rest: argv.slice(words.length) };
    }
  }
  return best;
}

function usage(): string {
  const width = Math.max(...COMMAND_ENTRIES.map((e) => e.name.length), 10);
  return [
    'usage: workstation <command> [flags]   (workstation <command> --help for its flags)',
    '',
    ...COMMAND_ENTRIES.map((e) => `  ${e.name.padEnd(width)}  ${e.summary}`),
    '',
  ].join('\n');
}

export async function main(argv: string[], io?: Partial<CliIO>): Promise<number> {
  const controller = new AbortController();
  const full: CliIO = {
    stdout: io?.stdout ?? ((t) => process.stdout.write(t)),
    stderr: io?.stderr ?? ((t) => process.stderr.write(t)),
    env: io?.env ?? process.env,
    cwd: io?.cwd ?? process.cwd(),
    signal: io?.signal ?? controller.signal,
  };
  if (!io?.stdout) {
    // `workstation … | head` closes the pipe early: that is not an error worth a stack trace.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
  if (!io?.signal) {
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    full.stdout(usage());
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    full.stderr(`workstation: unknown command "${argv.join(' ')}"\n\n${usage()}`);
    return 2;
  }
  try {
    const spec = (await found.entry.load()).default;
    if (found.rest.includes('--help')) {
      const lines = [`usage: workstation ${spec.name}${(spec.positionals ?? []).map((p) => ` <${p.name}>`).join('')} [flags]`, '', spec.summary, ''];
      for (const [name, f] of Object.entries(spec.flags)) lines.push(`  --${name.padEnd(18)} ${f.description}${f.required ? ' (required)' : ''}`);
      full.stdout(lines.join('\n') + '\n');
      return 0;
    }
    const args = parseArgs(found.rest, spec.flags, spec.positionals);
    return await spec.run(args, full);
  } catch (e) {
    if (isWorkstationError(e)) {
      const w = toWireError(e);
      full.stderr(`workstation ${found.entry.name}: error [${w.code}]: ${w.message}\n`);
      return 2;
    }
    full.stderr(`workstation ${found.entry.name}: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

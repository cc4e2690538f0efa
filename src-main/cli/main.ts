// `workstation` CLI entry: finds the command (longest matching word prefix), parses its flags,
// runs it, prints typed errors as one clear line. `--version`, `--help` (commands grouped by
// task) and `help <command>` (the same text as `<command> --help`) load no command's code
// beyond that command's own module, and never run it.
import fs from 'node:fs';
import path from 'node:path';
import { isWorkstationError, toWireError } from '../../src-shared/errors';
import { parseArgs } from '../common/args';
import { packageRoot } from '../common/paths';
import type { CliIO, CommandEntry, CommandSpec } from './command';
import { COMMAND_ENTRIES, COMMAND_GROUPS } from './commands/index';

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
  const lines = [
    'usage: workstation <command> [flags]',
    '       workstation help <command>   (or <command> --help: its flags)',
    '       workstation --version',
  ];
  for (const g of COMMAND_GROUPS) lines.push('', `${g.title}:`, ...g.entries.map((e) => `  ${e.name.padEnd(width)}  ${e.summary}`));
  return lines.join('\n') + '\n';
}

function commandHelp(spec: CommandSpec): string {
  const positionals = spec.positionals ?? [];
  const lines = [`usage: workstation ${spec.name}${positionals.map((p) => (p.required ? ` <${p.name}>` : ` [${p.name}]`)).join('')} [flags]`, '', spec.summary];
  if (positionals.length > 0) {
    lines.push('', 'arguments:');
    for (const p of positionals) lines.push(`  ${`<${p.name}>`.padEnd(20)} ${p.description}${p.required ? ' (required)' : ''}`);
  }
  lines.push('', 'flags:');
  // one column for the descriptions, wide enough for the longest flag
  const width = Math.max(18, ...Object.keys(spec.flags).map((n) => n.length));
  for (const [name, f] of Object.entries(spec.flags)) {
    const def = f.default !== undefined && f.type !== 'boolean' ? ` (default: ${Array.isArray(f.default) ? f.default.join(', ') : String(f.default)})` : '';
    lines.push(`  --${name.padEnd(width)} ${f.description}${f.required ? ' (required)' : ''}${def}`);
  }
  return lines.join('\n') + '\n';
}

/** The version in package.json (the checkout's or the installed package's). */
function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

const isHelp = (a: string | undefined) => a === '--help' || a === '-h';

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
  if (argv[0] === '--version' || argv[0] === '-v') {
    full.stdout(`workstation ${version()}\n`);
    return 0;
  }
  const helpOnly = argv[0] === 'help';
  const words = helpOnly ? argv.slice(1) : argv;
  if (words.length === 0 || (words.length === 1 && isHelp(words[0]))) {
    full.stdout(usage());
    return 0;
  }
  const found = findCommand(words);
  if (!found) {
    full.stderr(`workstation: unknown command "${words.join(' ')}"\n\n${usage()}`);
    return 2;
  }
  try {
    if (!helpOnly && !found.rest.some(isHelp)) await import('../ml/quiet-tfjs'); // before the command can load tfjs
    const spec = (await found.entry.load()).default;
    if (helpOnly || found.rest.some(isHelp)) {
      full.stdout(commandHelp(spec));
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

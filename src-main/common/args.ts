// A small, strict argument parser: flags are declared per command, unknown flags and bad
// values are errors naming the flag. Library code never sees process.argv.
// Why not node:util parseArgs: on Node 20 it has no number flags, no required flags and no
// `--no-<flag>` (allowNegative came in Node 22), so every command would re-check those by hand
// and its errors ("Unknown option '--epocs'") would not name the flag's field for the API-style
// error; this parser is ~100 lines, fully tested in tests/cli/cli-main.test.ts.
import { WorkstationError } from '../../src-shared/errors';

export type FlagType = 'string' | 'number' | 'boolean' | 'string[]';
export interface FlagSpec {
  type: FlagType;
  description: string;
  required?: boolean;
  default?: string | number | boolean | string[];
}
export interface PositionalSpec {
  name: string;
  description: string;
  required?: boolean;
}
export type FlagValue = string | number | boolean | string[] | undefined;
export interface ParsedArgs {
  flags: Record<string, FlagValue>;
  positionals: string[];
}

export function parseArgs(argv: string[], flags: Record<string, FlagSpec>, positionals: PositionalSpec[] = []): ParsedArgs {
  const out: Record<string, FlagValue> = {};
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      pos.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      pos.push(a);
      continue;
    }
    let name = a.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const spec = flags[name];
    if (!spec && name.startsWith('no-') && flags[name.slice(3)]?.type === 'boolean') {
      out[name.slice(3)] = false;
      continue;
    }
    if (!spec) throw new WorkstationError('INVALID_ARGUMENT', `unknown flag --${name}`, { field: name });
    if (spec.type === 'boolean') {
      if (value === undefined) out[name] = true;
      else if (value === 'true' || value === 'false') out[name] = value === 'true';
      else throw new WorkstationError('INVALID_ARGUMENT', `--${name} takes true or false, got "${value}"`, { field: name });
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new WorkstationError('INVALID_ARGUMENT', `--${name} needs a value`, { field: name });
      value = argv[++i];
    }
    if (spec.type === 'number') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n))
        throw new WorkstationError('INVALID_ARGUMENT', `--${name} must be a number, got "${value}"`, { field: name });
      out[name] = n;
    } else if (spec.type === 'string[]') {
      const prev = out[name];
      out[name] = [...(Array.isArray(prev) ? prev : []), value];
    } else out[name] = value;
  }
  for (const [name, spec] of Object.entries(flags)) {
    if (out[name] === undefined && spec.default !== undefined) out[name] = spec.default;
    if (out[name] === undefined && spec.required) throw new WorkstationError('INVALID_ARGUMENT', `missing required flag --${name}`, { field: name });
  }
  positionals.forEach((p, i) => {
    if (p.required && pos[i] === undefined) throw new WorkstationError('INVALID_ARGUMENT', `missing argument <${p.name}>`, { field: p.name });
  });
  if (pos.length > positionals.length) throw new WorkstationError('INVALID_ARGUMENT', `unexpected argument "${pos[positionals.length]}"`);
  return { flags: out, positionals: pos };
}

export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}
export function num(args: ParsedArgs, name: string): number | undefined {
  const v = args.flags[name];
  return typeof v === 'number' ? v : undefined;
}
export function bool(args: ParsedArgs, name: string): boolean {
  return args.flags[name] === true;
}
export function list(args: ParsedArgs, name: string): string[] {
  const v = args.flags[name];
  return Array.isArray(v) ? v : [];
}

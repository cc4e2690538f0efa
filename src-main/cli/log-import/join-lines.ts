// Physical lines of a log file → logical lines: a carriage-return progress update keeps the last
// segment a terminal showed (ANSI codes dropped), and a line a terminal wrapped is joined with the
// line(s) before it when only the joined text reads. Each logical line carries its parse.
import { parseLine, type ParsedLine } from './grammar';

export interface LogLine {
  /** 1-based line number in the file (the first physical line of a wrapped line) */
  line: number;
  text: string;
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** What a terminal showed last on a physical line: the segment after the last carriage return. */
function lastSegment(raw: string): string {
  const segments = raw.replace(ANSI, '').split('\r');
  for (let i = segments.length - 1; i >= 0; i--) if (segments[i].trim() !== '') return segments[i].trimEnd();
  return '';
}

export interface Logical extends LogLine {
  parsed: ParsedLine;
}

/** How many earlier lines a wrapped line may continue (a bar wrapped on a narrow terminal). */
const MAX_WRAP_PIECES = 4;

export function readLogLines(text: string): Logical[] {
  const out: Logical[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = lastSegment(raw);
    const parsed = parseLine(line);
    if (parsed.kind !== 'unreadable') {
      out.push({ line: i + 1, text: line, parsed });
      return;
    }
    // A wrapped continuation: join with the previous piece(s) (all but the first unreadable on
    // their own) and keep the join if it reads. Terminals break mid-word; copies may have
    // trimmed a space at the break, so try both.
    for (let k = 1; k <= MAX_WRAP_PIECES - 1 && k <= out.length; k++) {
      const pieces = out.slice(out.length - k);
      if (pieces.some((p) => p.parsed.kind === 'blank')) break;
      if (pieces.slice(1).some((p) => p.parsed.kind !== 'unreadable')) break;
      const head = pieces.map((p) => p.text).join('');
      for (const joined of [head + line, `${head} ${line}`]) {
        const p = parseLine(joined);
        if (p.kind !== 'unreadable') {
          out.splice(out.length - k, k, { line: pieces[0].line, text: joined, parsed: p });
          return;
        }
      }
    }
    out.push({ line: i + 1, text: line, parsed });
  });
  return out;
}

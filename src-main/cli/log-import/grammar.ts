// The line grammar of a past training log (tqdm progress bars + print lines, the seed project's
// format): the patterns of the lines it knows and the parsing of one logical line into a typed record.
//
// What is read: the training bar `Epoch N | Loss: … | Top-1 Acc: … | Top-5 Acc: …: 100%|…| n/N
// [mm:ss<mm:ss, X it/s]` (epoch seconds = the elapsed part), `Test Loss: …, Top-1 Accuracy: …,
// Top-5 Accuracy: …` (validation of that epoch), the per-epoch summary line, and resume lines.
// Understood and ignored ('harmless'): `Checkpoint saved at epoch N`, progress bars without an
// `Epoch N |` prefix (evaluation). Anything else is 'unreadable'.
const NUM = String.raw`([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|nan|inf|-inf)`;
const TIME = String.raw`((?:\d+:)?\d+:\d\d)`;
const BAR_TAIL = String.raw`\s*(\d+)%\|[^|]*\|\s*(\d+)\/(\d+)\s*\[${TIME}<(?:\?|[\d:]+),\s*(\?|[\d.]+)(it\/s|s\/it)(?:,[^\]]*)?\]`;
const RE = {
  resume: /^Checkpoint loaded,?\s+resuming from epoch (\d+)\.?$/i,
  saved: /^Checkpoint saved at epoch \d+\.?$/i,
  trainBar: new RegExp(String.raw`^Epoch (\d+) \| Loss: ${NUM} \| Top-1 Acc: ${NUM} \| Top-5 Acc: ${NUM}:${BAR_TAIL}$`, 'i'),
  otherBar: new RegExp(String.raw`^(?:[^|]*:)?\s*\d+%\|[^|]*\|\s*\d+\/\d+\s*\[[^\]]*\]$`),
  test: new RegExp(String.raw`^Test Loss: ${NUM}, Top-1 Accuracy: ${NUM}, Top-5 Accuracy: ${NUM}$`, 'i'),
  summary: new RegExp(String.raw`^Epoch (\d+) \| Train Top-1 Acc: ${NUM} \| Test Top-1 Acc: ${NUM}$`, 'i'),
};

export type ParsedLine =
  | { kind: 'blank' | 'harmless' }
  | { kind: 'resume'; epoch: number }
  | { kind: 'bar'; epoch: number; loss: number; top1: number; top5: number; done: boolean; n: number; total: number; seconds: number; itPerSec: number }
  | { kind: 'test'; loss: number; top1: number; top5: number }
  | { kind: 'summary'; epoch: number; trainTop1: number; valTop1: number }
  | { kind: 'unreadable' };

function num(s: string): number {
  const l = s.toLowerCase();
  if (l === 'nan') return NaN;
  if (l === 'inf') return Infinity;
  if (l === '-inf') return -Infinity;
  return Number(s);
}

function seconds(t: string): number {
  return t.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

export function parseLine(text: string): ParsedLine {
  const t = text.trim();
  if (t === '') return { kind: 'blank' };
  let m: RegExpMatchArray | null;
  if ((m = t.match(RE.resume))) return { kind: 'resume', epoch: Number(m[1]) };
  if ((m = t.match(RE.trainBar))) {
    const [n, total] = [Number(m[6]), Number(m[7])];
    const rate = m[9] === '?' ? NaN : Number(m[9]);
    return {
      kind: 'bar',
      epoch: Number(m[1]),
      loss: num(m[2]),
      top1: num(m[3]),
      top5: num(m[4]),
      done: n >= total && total > 0,
      n,
      total,
      seconds: seconds(m[8]),
      itPerSec: m[10] === 's/it' ? 1 / rate : rate,
    };
  }
  if ((m = t.match(RE.test))) return { kind: 'test', loss: num(m[1]), top1: num(m[2]), top5: num(m[3]) };
  if ((m = t.match(RE.summary))) return { kind: 'summary', epoch: Number(m[1]), trainTop1: num(m[2]), valTop1: num(m[3]) };
  if (RE.saved.test(t) || RE.otherBar.test(t)) return { kind: 'harmless' };
  return { kind: 'unreadable' };
}

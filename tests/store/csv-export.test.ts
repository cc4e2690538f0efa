// CSV export from a real store: column order, full precision, top1_gap, RFC 4180 quoting and the
// lineage series that continues a parent's epochs up to each fork.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, type EpochMetrics } from '../../src-shared/metrics';
import { isWorkstationError } from '../../src-shared/errors';
import { openStore, type Store } from '../../src-main/store/index';
import { exportCsv } from '../../src-main/service/csv-export';
import { tempDir } from '../helpers/samples';

/** A strict RFC 4180 reader (CRLF records, quoted fields with "" escapes) to check the output. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"') {
      if (field !== '') throw new Error(`quote inside an unquoted field at ${i}`);
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += 2;
    } else if (c === '\n' || c === '\r') {
      throw new Error(`bare line break at ${i}`);
    } else {
      field += c;
      i++;
    }
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length) throw new Error('last record is not terminated by CRLF');
  return rows;
}

function epoch(n: number, over: Partial<EpochMetrics> = {}): EpochMetrics {
  return {
    epoch: n,
    trainLoss: 5 - n / 7,
    trainTop1: 10 + n * 1.5,
    trainTop5: 30 + n,
    valLoss: 4 - n / 9,
    valTop1: 12 + n * 1.25,
    valTop5: 33 + n,
    lr: 0.1 * Math.cos(n / 40),
    momentum: 0.9,
    imagesPerSec: 380 + n / 3,
    epochSeconds: 3300 - n,
    skippedFiles: 0,
    imageSize: 224,
    ...over,
  };
}

const opened: Store[] = [];
function open(): Store {
  const s = openStore(path.join(tempDir('ws-csv-'), 'ws.db'));
  opened.push(s);
  return s;
}
afterEach(() => {
  while (opened.length) opened.pop()!.close();
});

function run(store: Store, name: string, epochs: number[], parent?: { id: number; forkEpoch: number }) {
  const r = store.runs.create({ name, config: {}, seed: 1, targetEpochs: 40, parentRunId: parent?.id ?? null, forkEpoch: parent?.forkEpoch ?? null });
  for (const e of epochs) store.metrics.addEpoch(r.id, epoch(e, { trainLoss: 5 - e / 7 + r.id / 1000 }));
  return r;
}
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('exportCsv', () => {
  it('writes the header in CSV_COLUMNS order and one row per epoch at full precision', () => {
    const store = open();
    const r = run(store, 'baseline', [1, 2, 3]);
    store.metrics.addEpoch(r.id, epoch(4, { valLoss: null, valTop1: null, valTop5: null, lr: NaN, momentum: NaN }));
    store.metrics.addEpoch(r.id, epoch(5, { trainTop1: 18.95, valTop1: 26.32 }));
    const out = exportCsv(store, r.id, { lineage: false });
    expect(out.rows).toBe(5);
    expect(out.filename).toBe('baseline_run-1.csv');
    expect(out.csv.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(out.csv);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows).toHaveLength(6);
    const col = (row: string[], name: (typeof CSV_COLUMNS)[number]) => row[CSV_COLUMNS.indexOf(name)];
    const m = epoch(2, { trainLoss: 5 - 2 / 7 + 1 / 1000 });
    expect(col(rows[2], 'run_id')).toBe('1');
    expect(col(rows[2], 'epoch')).toBe('2');
    // every digit survives the round trip
    expect(Number(col(rows[2], 'train_loss'))).toBe(m.trainLoss);
    expect(Number(col(rows[2], 'lr'))).toBe(m.lr);
    expect(Number(col(rows[2], 'images_per_sec'))).toBe(m.imagesPerSec);
    expect(Number(col(rows[2], 'val_loss'))).toBe(m.valLoss);
    expect(Number(col(rows[2], 'top1_gap'))).toBeCloseTo(m.trainTop1 - m.valTop1!, 12);
    expect(col(rows[2], 'top1_gap')).toBe('-1.5');
    expect(col(rows[5], 'top1_gap')).toBe('-7.37'); // not -7.370000000000001: no binary noise from the subtraction
    // epoch 4: no validation, unknown lr and momentum → empty fields
    expect(col(rows[4], 'val_top1')).toBe('');
    expect(col(rows[4], 'top1_gap')).toBe('');
    expect(col(rows[4], 'lr')).toBe('');
    expect(col(rows[4], 'momentum')).toBe('');
    expect(col(rows[4], 'train_top1')).toBe('16');
  });

  it('quotes run names with commas, quotes and line breaks (RFC 4180)', () => {
    const store = open();
    const name = 'lr 0.2, "warm" restart\nv2';
    const r = run(store, name, [1, 2]);
    const out = exportCsv(store, r.id, { lineage: false });
    expect(out.csv).toContain('"lr 0.2, ""warm"" restart\nv2"');
    const rows = parseCsv(out.csv);
    expect(rows.slice(1).map((row) => row[1])).toEqual([name, name]);
    expect(rows.every((row) => row.length === CSV_COLUMNS.length)).toBe(true);
    expect(out.filename).toBe('lr-0.2-warm-restart-v2_run-1.csv');
  });

  it('gives a lineage one continuous series: each ancestor up to the next fork epoch, then the run', () => {
    const store = open();
    const root = run(store, 'root', range(1, 25)); // trained past the later fork point
    const a = run(store, 'lr-drop', range(20, 31), { id: root.id, forkEpoch: 19 });
    const b = run(store, 'longer', range(30, 39), { id: a.id, forkEpoch: 29 });
    run(store, 'sibling', range(10, 12), { id: root.id, forkEpoch: 9 });

    const out = exportCsv(store, b.id, { lineage: true });
    const rows = parseCsv(out.csv).slice(1);
    expect(out.rows).toBe(39);
    expect(out.filename).toBe('longer_run-3_lineage.csv');
    expect(rows.map((r) => Number(r[2]))).toEqual(range(1, 39));
    expect(rows.map((r) => r[0])).toEqual([...Array(19).fill('1'), ...Array(10).fill('2'), ...Array(10).fill('3')]);
    expect(rows.map((r) => r[1])).toEqual([...Array(19).fill('root'), ...Array(10).fill('lr-drop'), ...Array(10).fill('longer')]);
    // each row carries the metrics of the run that produced it
    expect(Number(rows[19][3])).toBe(5 - 20 / 7 + a.id / 1000);
    expect(Number(rows[0][3])).toBe(5 - 1 / 7 + root.id / 1000);

    const middle = parseCsv(exportCsv(store, a.id, { lineage: true }).csv).slice(1);
    expect(middle.map((r) => `${r[0]}:${r[2]}`)).toEqual([...range(1, 19).map((e) => `1:${e}`), ...range(20, 31).map((e) => `2:${e}`)]);

    const own = exportCsv(store, b.id, { lineage: false });
    expect(own.rows).toBe(10);
    expect(exportCsv(store, root.id, { lineage: true }).rows).toBe(25);
  });

  it('reports an unknown run as NOT_FOUND', () => {
    const store = open();
    for (const lineage of [false, true]) {
      let err: unknown;
      try {
        exportCsv(store, 42, { lineage });
      } catch (e) {
        err = e;
      }
      expect(isWorkstationError(err) && err.code).toBe('NOT_FOUND');
    }
  });
});

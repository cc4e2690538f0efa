// Importing a past training log (the seed's tqdm + print format) into a real store: runs per
// experiment with their fork points, values read from bars and test lines, carriage returns,
// wrapped lines, and every unreadable line reported with its number.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src-main/store/index';
import { parseTrainingLog } from '../../src-main/cli/log-import/assemble';
import { importLog } from '../../src-main/cli/log-import/import';
import { exportCsv } from '../../src-main/service/csv-export';
import { COMMANDS, EVENTS } from '../../src-shared/api/contract';
import { tempDir } from '../helpers/samples';

const FIXTURE = path.resolve(__dirname, '../fixtures/logs/seed-run.log');

const opened: Store[] = [];
function open(): Store {
  const s = openStore(path.join(tempDir('ws-import-'), 'ws.db'));
  opened.push(s);
  return s;
}
afterEach(() => {
  while (opened.length) opened.pop()!.close();
});

const bar = (e: number, loss: string, t1: string, t5: string, tail = '10010/10010 [55:03<00:00, 3.03it/s]') =>
  `Epoch ${e} | Loss: ${loss} | Top-1 Acc: ${t1} | Top-5 Acc: ${t5}: 100%|██████████| ${tail}`;
const test = (l: string, t1: string, t5: string) => `Test Loss: ${l}, Top-1 Accuracy: ${t1}, Top-5 Accuracy: ${t5}`;

describe('importLog on the seed fixture (39 epochs, resumed at 20 and 30)', () => {
  it('creates three runs forking at 19 and 29 and reports the one garbage line', () => {
    const store = open();
    const text = fs.readFileSync(FIXTURE, 'utf8');
    expect(text).toContain('\r'); // the fixture really carries tqdm's carriage-return updates
    const result = importLog(store, text, { source: FIXTURE });

    expect(result.runs).toEqual([
      { id: 1, name: 'seed-run', parentRunId: null, forkEpoch: null, epochs: 22, firstEpoch: 1, lastEpoch: 22, bestValTop1: expect.any(Number) },
      { id: 2, name: 'seed-run-resume-e20', parentRunId: 1, forkEpoch: 19, epochs: 12, firstEpoch: 20, lastEpoch: 31, bestValTop1: expect.any(Number) },
      { id: 3, name: 'seed-run-resume-e30', parentRunId: 2, forkEpoch: 29, epochs: 10, firstEpoch: 30, lastEpoch: 39, bestValTop1: 70.27 },
    ]);
    expect(result.unreadable).toEqual([{ line: 22, text: expect.stringMatching(/^\/opt\/conda\/lib\/python3\.10\/.*UserWarning: The epoch parameter/) }]);
    // the run killed mid-epoch 23 left a partial bar: read, reported, not imported as an epoch
    expect(result.warnings).toEqual([expect.objectContaining({ line: 92, message: expect.stringMatching(/epoch 23 stopped at 3704\/10010/) })]);

    const runs = store.runs.list();
    expect(runs.map((r) => [r.status, r.parentRunId, r.forkEpoch, r.lastEpoch])).toEqual([
      ['completed', null, null, 22],
      ['completed', 1, 19, 31],
      ['completed', 2, 29, 39],
    ]);
    expect(store.runs.config(3)).toEqual({ imported: true, source: FIXTURE, sha256: crypto.createHash('sha256').update(text).digest('hex') });

    // the same log again would silently double every run: refused, unless asked for
    expect(() => importLog(store, text, { source: FIXTURE })).toThrow(/already imported \(run #1 seed-run\).*--allow-duplicate/);
    expect(store.runs.list()).toHaveLength(3);
    expect(importLog(store, text, { source: FIXTURE, allowDuplicate: true }).runs.map((r) => r.id)).toEqual([4, 5, 6]);
    expect(store.events.list(2)).toEqual([
      expect.objectContaining({ kind: 'fork', epoch: 20, data: expect.objectContaining({ parentRunId: 1, forkEpoch: 19, line: 94 }) }),
    ]);
  });

  it('reads the values of the bars (last carriage-return segment), test lines and a wrapped line', () => {
    const store = open();
    importLog(store, fs.readFileSync(FIXTURE, 'utf8'), { source: FIXTURE });
    const root = store.metrics.epochs(1);
    expect(root.map((e) => e.epoch)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
    expect(root[0]).toEqual({
      epoch: 1,
      trainLoss: 4.1308,
      trainTop1: 18.95,
      trainTop5: 40.25,
      valLoss: 3.4872,
      valTop1: 26.32,
      valTop5: 51.94,
      lr: NaN,
      momentum: NaN,
      imagesPerSec: 3.03 * 128,
      epochSeconds: 55 * 60 + 3,
      skippedFiles: 0,
      imageSize: NaN,
    });
    // epoch 12's bar was wrapped by the terminal across lines 47-48
    expect(root[11]).toMatchObject({
      epoch: 12,
      trainLoss: 2.8498,
      trainTop1: 50.95,
      trainTop5: 76.46,
      valTop1: 54.91,
      epochSeconds: 54 * 60 + 52,
      imagesPerSec: 3.04 * 128,
    });
    const last = store.metrics.epochs(3).at(-1)!;
    expect(last).toMatchObject({
      epoch: 39,
      trainLoss: 1.8946,
      trainTop1: 74.81,
      trainTop5: 92.01,
      valLoss: 1.203,
      valTop1: 70.27,
      valTop5: 89.65,
      epochSeconds: 54 * 60 + 29,
    });
  });

  it('exports the lineage of the last experiment as one 39-epoch series ending at 70.27', () => {
    const store = open();
    const { runs } = importLog(store, fs.readFileSync(FIXTURE, 'utf8'), { source: FIXTURE });
    const out = exportCsv(store, runs[2].id, { lineage: true });
    const rows = out.csv
      .trimEnd()
      .split('\r\n')
      .slice(1)
      .map((l) => l.split(','));
    expect(out.rows).toBe(39);
    expect(rows.map((r) => Number(r[2]))).toEqual(Array.from({ length: 39 }, (_, i) => i + 1));
    expect(rows.map((r) => r[0]).join('')).toBe('1'.repeat(19) + '2'.repeat(10) + '3'.repeat(10));
    expect(rows[38][7]).toBe('70.27');
    expect(rows[0].slice(3, 10)).toEqual(['4.1308', '18.95', '40.25', '3.4872', '26.32', '51.94', '-7.37']);
  });

  it('travels the API: unknown lr, momentum and image size are NaN in memory and null on the JSON wire', () => {
    const store = open();
    importLog(store, fs.readFileSync(FIXTURE, 'utf8'), { source: FIXTURE });
    const detail = {
      run: store.runs.get(1)!,
      config: store.runs.config(1),
      epochs: store.metrics.epochs(1),
      steps: store.metrics.steps(1),
      checkpoints: store.checkpoints.list(1),
      events: store.events.list(1),
    };
    const schema = COMMANDS['runs.get'].result;
    expect(schema.safeParse(detail).success).toBe(true); // service side: NaN
    const wire = JSON.parse(JSON.stringify(detail));
    expect(wire.epochs[0].lr).toBeNull();
    const client = schema.parse(wire); // client side: null → NaN
    expect(client.epochs[0].lr).toBeNaN();
    expect(client.epochs[0].imageSize).toBeNaN();
    expect(client.epochs[0].trainTop1).toBe(18.95);
    // still strict: a missing or non-numeric metric is refused
    const { lr: _lr, ...noLr } = wire.epochs[0];
    expect(EVENTS['run.epoch'].safeParse({ runId: 1, metrics: noLr }).success).toBe(false);
    expect(EVENTS['run.epoch'].safeParse({ runId: 1, metrics: { ...wire.epochs[0], lr: 'fast' } }).success).toBe(false);
    expect(EVENTS['run.epoch'].safeParse({ runId: 1, metrics: { ...wire.epochs[0], imageSize: 224.5 } }).success).toBe(false);
  });

  it('uses --name and the batch size for images/s', () => {
    const store = open();
    const { runs } = importLog(store, fs.readFileSync(FIXTURE, 'utf8'), { name: 'resnet50 seed', batchSize: 256 });
    expect(runs.map((r) => r.name)).toEqual(['resnet50 seed', 'resnet50 seed-resume-e20', 'resnet50 seed-resume-e30']);
    expect(store.metrics.epochs(1)[0].imagesPerSec).toBe(3.03 * 256);
    expect(() => importLog(store, '', { batchSize: 0 })).toThrow(/batch size/);
  });
});

describe('log grammar', () => {
  it('handles CRLF files, s/it rates, hour-long epochs and an evaluation bar', () => {
    const text = [
      bar(1, '6.1000', '2.50', '8.00', '10010/10010 [1:02:03<00:00, 2.69s/it]'),
      '100%|██████████| 391/391 [01:12<00:00,  5.40it/s]',
      test('5.9000', '3.75', '11.00'),
      'Epoch 1 | Train Top-1 Acc: 2.50 | Test Top-1 Acc: 3.75',
      'Checkpoint saved at epoch 1',
      '',
    ].join('\r\n');
    const parsed = parseTrainingLog(text);
    expect(parsed.unreadable).toEqual([]);
    expect(parsed.warnings).toEqual([]);
    expect(parsed.runs).toHaveLength(1);
    expect(parsed.runs[0].epochs[0]).toMatchObject({ epoch: 1, trainLoss: 6.1, epochSeconds: 3723, valTop1: 3.75, valTop5: 11 });
    expect(parsed.runs[0].epochs[0].imagesPerSec).toBeCloseTo(128 / 2.69, 10);
  });

  it('joins a line wrapped where the first piece reads on its own, and a bar wrapped in three pieces', () => {
    const full = bar(3, '3.2000', '40.00', '66.00', '10010/10010 [55:10<00:00, 3.02it/s]');
    const text = [
      full.slice(0, 40),
      full.slice(40, 90),
      full.slice(90),
      'Test Loss: 2.9000, Top-1 Accuracy: 44.10, Top-5 Accuracy: 70.1',
      '2',
      'Epoch 3 | Train Top-1 Acc: 40.00 | Test Top-1 Acc: 44.10',
    ].join('\n');
    const parsed = parseTrainingLog(text);
    expect(parsed.unreadable).toEqual([]);
    expect(parsed.runs[0].epochs).toEqual([expect.objectContaining({ epoch: 3, trainLoss: 3.2, trainTop5: 66, epochSeconds: 3310, valTop5: 70.12 })]);
  });

  it('reports what it cannot read, never dropping it, and notes lines that do not fit', () => {
    const text = [
      'Using 8 dataloader workers',
      test('6.0', '0.10', '0.50'), // evaluation before any training
      'Checkpoint loaded, resuming from epoch 5', // before training: only where the run starts
      bar(5, '3.0', '45.0', '70.0'),
      'Traceback (most recent call last):',
      'Epoch 6 | Train Top-1 Acc: 46.0 | Test Top-1 Acc: 47.0', // summary without its bar
      'Checkpoint loaded, resuming from epoch 9', // the parent has no epoch 8
      bar(9, '2.0', '50.0', '75.0'),
    ].join('\n');
    const parsed = parseTrainingLog(text);
    expect(parsed.unreadable).toEqual([
      { line: 1, text: 'Using 8 dataloader workers' },
      { line: 5, text: 'Traceback (most recent call last):' },
    ]);
    expect(parsed.warnings.map((w) => w.line)).toEqual([2, 6, 7]);
    expect(parsed.runs.map((r) => [r.parent, r.forkEpoch, r.epochs.map((e) => e.epoch)])).toEqual([
      [null, null, [5]],
      [0, 8, [9]],
    ]);
    expect(parsed.runs[0].epochs[0].valTop1).toBeNull();
  });

  it('treats epochs going back without a resume line as a resume, and imports nothing from an empty log', () => {
    const parsed = parseTrainingLog([bar(1, '5', '10', '20'), bar(2, '4', '15', '30'), bar(2, '3.9', '16', '31'), bar(3, '3.5', '20', '40')].join('\n'));
    expect(parsed.runs.map((r) => [r.parent, r.forkEpoch, r.epochs.map((e) => e.epoch)])).toEqual([
      [null, null, [1, 2]],
      [0, 1, [2, 3]],
    ]);
    expect(parsed.warnings).toHaveLength(1);

    const store = open();
    const empty = importLog(store, 'Checkpoint loaded, resuming from epoch 1\n\n', {});
    expect(empty.runs).toEqual([]);
    expect(empty.unreadable).toEqual([]);
    expect(store.runs.list()).toEqual([]);
  });
});

// Notes and tags on runs (schema version 3: runs.notes, run_tags) on a real SQLite file: they
// round-trip through every read, survive reopening, are validated where they enter, and go with
// the run when it is deleted.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isWorkstationError } from '../../src-shared/errors';
import { openStore, type Store } from '../../src-main/store/index';
import { tempDir } from '../helpers/samples';

const opened: Store[] = [];
function open(dbPath = path.join(tempDir('ws-tags-'), 'ws.db')): Store {
  const s = openStore(dbPath);
  opened.push(s);
  return s;
}
afterEach(() => {
  while (opened.length) opened.pop()!.close();
});

function newRun(store: Store, name: string, parentRunId: number | null = null) {
  return store.runs.create({ name, config: { name }, seed: 1, targetEpochs: 3, parentRunId });
}

function code(fn: () => unknown): { code: string; field?: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isWorkstationError(e)) return { code: e.code, field: e.field, message: e.message };
    throw e;
  }
  throw new Error('expected a WorkstationError');
}

describe('run notes and tags', () => {
  it('a new run has no notes and no tags; both show in get, list, lineage and survive reopening', () => {
    const file = path.join(tempDir('ws-tags-'), 'ws.db');
    const store = open(file);
    const a = newRun(store, 'baseline');
    expect(a).toMatchObject({ notes: '', tags: [] });
    const notes = 'lr 0.2 warm-up, "second" try\nval looked noisy; see epoch 12';
    expect(store.runs.setNotes(a.id, notes).notes).toBe(notes);
    // trimmed, de-duplicated, sorted on read, case kept (Baseline and baseline are two tags)
    const tagged = store.runs.setTags(a.id, [' sweep-lr ', 'Baseline', 'baseline', 'sweep-lr', 'GPU box #2']);
    expect(tagged.tags).toEqual(['Baseline', 'GPU box #2', 'baseline', 'sweep-lr']);
    const child = newRun(store, 'child', a.id);
    store.runs.addTags(child.id, ['sweep-lr']);
    expect(store.runs.list().map((r) => [r.id, r.tags])).toEqual([
      [a.id, ['Baseline', 'GPU box #2', 'baseline', 'sweep-lr']],
      [child.id, ['sweep-lr']],
    ]);
    expect(store.runs.lineage(child.id)[0]).toMatchObject({ notes, tags: tagged.tags });
    expect(store.runs.allTags()).toEqual([
      { tag: 'Baseline', runs: 1 },
      { tag: 'GPU box #2', runs: 1 },
      { tag: 'baseline', runs: 1 },
      { tag: 'sweep-lr', runs: 2 },
    ]);
    store.close();
    const again = open(file);
    expect(again.runs.get(a.id)).toMatchObject({ notes, tags: tagged.tags });
    expect(again.runs.resolve('child').tags).toEqual(['sweep-lr']);
  });

  it('addTags keeps what is there, removeTags drops only what it names, setTags replaces, [] and "" clear', () => {
    const store = open();
    const r = newRun(store, 'r');
    store.runs.setTags(r.id, ['a', 'b']);
    expect(store.runs.addTags(r.id, ['b', 'c']).tags).toEqual(['a', 'b', 'c']);
    expect(store.runs.removeTags(r.id, ['a', 'not-there']).tags).toEqual(['b', 'c']);
    expect(store.runs.setTags(r.id, ['z']).tags).toEqual(['z']);
    expect(store.runs.setTags(r.id, []).tags).toEqual([]);
    store.runs.setNotes(r.id, 'x');
    expect(store.runs.setNotes(r.id, '').notes).toBe('');
  });

  it('refuses bad tags and notes naming the field, and writes nothing then', () => {
    const store = open();
    const r = newRun(store, 'r');
    store.runs.setTags(r.id, ['keep']);
    expect(code(() => store.runs.setTags(r.id, ['ok', '  ']))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tags.1' });
    expect(code(() => store.runs.setTags(r.id, ['a,b']))).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('commas') });
    expect(code(() => store.runs.addTags(r.id, ['x'.repeat(65)]))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tags.0' });
    expect(code(() => store.runs.addTags(r.id, ['tab\there']))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    // more than 32 tags in all: nothing of the call is kept
    expect(
      code(() =>
        store.runs.addTags(
          r.id,
          Array.from({ length: 32 }, (_, i) => `t${i}`),
        ),
      ),
    ).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tags' });
    expect(store.runs.get(r.id)!.tags).toEqual(['keep']);
    expect(code(() => store.runs.setNotes(r.id, 'n'.repeat(20_001)))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'notes' });
    expect(code(() => store.runs.setNotes(999, 'x'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(code(() => store.runs.setTags(999, ['x']))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('tags go with a deleted run', () => {
    const store = open();
    const a = newRun(store, 'a');
    const b = newRun(store, 'b');
    store.runs.setTags(a.id, ['shared', 'only-a']);
    store.runs.setTags(b.id, ['shared']);
    store.runs.delete(a.id);
    expect(store.runs.allTags()).toEqual([{ tag: 'shared', runs: 1 }]);
  });
});

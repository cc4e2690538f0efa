// `workstation data index` and `workstation bench data` through the real CLI bundle.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeImagenetTree, SAMPLES_DIR, sampleFiles, tempDir } from '../helpers/samples';

const BIN = path.resolve(__dirname, '../../bin/workstation.cjs');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 170_000, env: { ...process.env, WORKSTATION_HOME: tempDir('ws-home-') } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('workstation data index', () => {
  it('prints classes, image counts and skipped files as JSON, and uses the cache the second time', () => {
    const root = makeImagenetTree(3, 2);
    const wnids = fs.readdirSync(path.join(root, 'train')).sort();
    fs.writeFileSync(path.join(root, 'train', wnids[0], 'notes.txt'), 'x');
    const cacheDir = tempDir('ws-cache-');
    const a = cli(['data', 'index', root, '--cache-dir', cacheDir, '--json']);
    expect(a.stderr).not.toMatch(/error/i);
    expect(a.code).toBe(0);
    const r = JSON.parse(a.stdout);
    expect(r.classes).toBe(3);
    expect(r.classList.map((c: { wnid: string }) => c.wnid)).toEqual(wnids);
    expect(r.train).toMatchObject({ images: 6 });
    expect(r.val).toMatchObject({ images: 3, layout: 'folders' });
    expect(r.skipped).toEqual([{ path: path.join(root, 'train', wnids[0], 'notes.txt'), reason: 'not a .jpeg/.jpg/.png file' }]);
    expect(r.fromCache).toBe(false);
    const b = cli(['data', 'index', root, '--cache-dir', cacheDir, '--json']);
    expect(JSON.parse(b.stdout).fromCache).toBe(true);
    const text = cli(['data', 'index', root, '--cache-dir', cacheDir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/classes\s+3/);
    expect(text.stdout).toContain('notes.txt');
  });

  it('fails with exit code 2 and a DATASET_ERROR naming the path', () => {
    const root = makeImagenetTree(2, 1);
    fs.rmSync(path.join(root, 'val'), { recursive: true });
    const r = cli(['data', 'index', root, '--no-cache', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DATASET_ERROR');
    expect(r.stderr).toContain(path.join(root, 'val'));
    const empty = makeImagenetTree(2, 1);
    fs.mkdirSync(path.join(empty, 'train', 'n00000000'));
    const e = cli(['data', 'index', empty, '--no-cache']);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain(path.join(empty, 'train', 'n00000000'));
  });
});

describe('workstation bench data', () => {
  it('reports images/s in total and per worker for decode and the training transform', () => {
    const dir = tempDir('ws-bench-');
    for (const f of sampleFiles().slice(0, 8)) fs.symlinkSync(f, path.join(dir, path.basename(f)));
    const r = cli(['bench', 'data', '--dir', dir, '--images', '48', '--workers', '1', '--size', '64', '--json']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ files: 8, workers: 1, size: 64 });
    expect(out.results.map((x: { mode: string }) => x.mode)).toEqual(['decode', 'train']);
    for (const x of out.results) {
      expect(x.images).toBe(48);
      expect(x.failed).toBe(0);
      expect(x.imagesPerSec).toBeGreaterThan(0);
      expect(x.imagesPerSecPerWorker).toBeCloseTo(x.imagesPerSec, 6);
      expect(x.imagesPerCpuSecond).toBeGreaterThan(0);
    }
    expect(out.machine.cpus).toBeGreaterThan(0);
    const bad = cli(['bench', 'data', '--dir', path.join(SAMPLES_DIR, 'missing'), '--images', '4']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('NOT_FOUND');
    const flag = cli(['bench', 'data', '--mode', 'everything']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--mode/);
  });
});

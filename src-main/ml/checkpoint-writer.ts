// Writes a run's checkpoints into its folder. Epoch checkpoints are rotated (keep last K plus the
// best by val top-1; the folder is listed once, later files are tracked in memory). Only the
// newest mid-epoch checkpoint is kept: writing one (or the next epoch checkpoint) supersedes the
// older mid-epoch files. A file a queued or running child run starts from is pinned: never removed.
// Superseded files are only listed by write(); the trainer deletes them (removeSuperseded) after
// the new checkpoint is recorded, so a crash in between never leaves the store pointing at a
// deleted file as the newest checkpoint.
import fs from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../../src-shared/config/run-config';
import {
  bestCheckpoint,
  checkpointName,
  listCheckpoints,
  MID_EPOCH_NAME,
  midEpochCheckpointName,
  rotateCheckpoints,
  saveCheckpoint,
  type CheckpointHeader,
  type CheckpointKind,
  type RotationEntry,
} from './checkpoint';
import type { AtomicWriteHooks, NamedArray } from './checkpoint-file';
import type { Model } from './models/index';

export interface CheckpointEvent {
  path: string;
  kind: CheckpointKind;
  epoch: number;
  /** steps done within the epoch (stepsPerEpoch for an epoch checkpoint) */
  stepInEpoch: number;
  globalStep: number;
  bytes: number;
  sha256: string;
  valTop1: number | null;
  isBest: boolean;
  /** files this write supersedes (rotation, older mid-epoch checkpoints): deleted by removeSuperseded() */
  removed: string[];
}

export type WriteHeader = Omit<
  CheckpointHeader,
  'kind' | 'createdAt' | 'weightsSha256' | 'arch' | 'numClasses' | 'widthMultiplier' | 'trainableParams' | 'nonTrainableParams' | 'optimizerState'
> & { checkpointKind: CheckpointKind; stepInEpoch: number };

export interface CheckpointWriterOptions {
  /** absolute paths a queued or running child needs (asked at each write) */
  pinned?: () => Iterable<string>;
  /** fault injection (tests): write hooks for the next writes */
  hooks?: () => AtomicWriteHooks | undefined;
}

export class CheckpointWriter {
  private rotation: RotationEntry[] | null = null;

  constructor(
    private readonly dir: string,
    private readonly cfg: Readonly<RunConfig>,
    private readonly opts: CheckpointWriterOptions = {},
  ) {}

  /** Writes the checkpoint `header` describes, then removes what it supersedes; says what changed. */
  async write(model: Model, optimizer: NamedArray[], header: WriteHeader): Promise<CheckpointEvent> {
    const mid = header.checkpointKind === 'mid-epoch';
    const file = path.join(this.dir, mid ? midEpochCheckpointName(header.epoch, header.stepInEpoch) : checkpointName(header.epoch));
    const valTop1 = mid ? null : (header.metrics?.valTop1 ?? null);
    const saved = saveCheckpoint({ file, model, optimizer, header, hooks: this.opts.hooks?.() });
    const pinned = new Set([...(this.opts.pinned?.() ?? [])].map((p) => path.resolve(p)));
    const removed = this.removeOlderMidEpoch(file, pinned);
    let isBest = false;
    if (!mid) {
      this.rotation ??= (await listCheckpoints(this.dir)).filter((e) => path.resolve(e.path) !== path.resolve(file));
      this.rotation.push({ path: file, epoch: header.epoch, valTop1 });
      const rotated = rotateCheckpoints(this.rotation, this.cfg.checkpoint.keepLast, this.cfg.checkpoint.keepBest, pinned, { remove: false });
      this.rotation = this.rotation.filter((e) => !rotated.includes(e.path));
      removed.push(...rotated);
      const best = bestCheckpoint(this.rotation);
      isBest = best !== null && path.resolve(best.path) === path.resolve(file);
    }
    return {
      path: file,
      kind: header.checkpointKind,
      epoch: header.epoch,
      stepInEpoch: header.stepInEpoch,
      globalStep: header.step,
      bytes: saved.bytes,
      sha256: saved.sha256,
      valTop1,
      isBest,
      removed,
    };
  }

  /** Deletes what a write superseded (call once the new checkpoint is recorded). */
  removeSuperseded(files: readonly string[]): void {
    for (const f of files) fs.rmSync(f, { force: true });
  }

  private removeOlderMidEpoch(keep: string, pinned: ReadonlySet<string>): string[] {
    if (!fs.existsSync(this.dir)) return [];
    const superseded: string[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      const p = path.join(this.dir, name);
      if (!MID_EPOCH_NAME.test(name) || path.resolve(p) === path.resolve(keep) || pinned.has(path.resolve(p))) continue;
      superseded.push(p);
    }
    return superseded;
  }
}

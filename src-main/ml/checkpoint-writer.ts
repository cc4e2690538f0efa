// Writes a run's epoch checkpoints into its folder and keeps the folder rotated (keep last K plus
// the best by val top-1). The folder is listed once (headers + checksums); later files are
// tracked in memory.
import path from 'node:path';
import type { RunConfig } from '../../src-shared/config/run-config';
import { bestCheckpoint, checkpointName, listCheckpoints, rotateCheckpoints, saveCheckpoint, type CheckpointHeader, type RotationEntry } from './checkpoint';
import type { Model } from './models/index';
import type { NamedArray } from './checkpoint-file';

export interface CheckpointEvent {
  path: string;
  epoch: number;
  bytes: number;
  sha256: string;
  valTop1: number | null;
  isBest: boolean;
  removed: string[];
}

export type EpochHeader = Omit<
  CheckpointHeader,
  'kind' | 'createdAt' | 'weightsSha256' | 'arch' | 'numClasses' | 'widthMultiplier' | 'trainableParams' | 'nonTrainableParams' | 'optimizerState'
>;

export class CheckpointWriter {
  private rotation: RotationEntry[] | null = null;

  constructor(
    private readonly dir: string,
    private readonly cfg: Readonly<RunConfig>,
  ) {}

  /** Writes epoch `header.epoch`'s checkpoint, rotates the folder, and says what changed. */
  async writeEpoch(model: Model, optimizer: NamedArray[], header: EpochHeader): Promise<CheckpointEvent> {
    const epoch = header.epoch;
    const file = path.join(this.dir, checkpointName(epoch));
    const valTop1 = header.metrics?.valTop1 ?? null;
    const saved = saveCheckpoint({ file, model, optimizer, header });
    this.rotation ??= (await listCheckpoints(this.dir)).filter((e) => path.resolve(e.path) !== path.resolve(file));
    this.rotation.push({ path: file, epoch, valTop1 });
    const removed = rotateCheckpoints(this.rotation, this.cfg.checkpoint.keepLast, this.cfg.checkpoint.keepBest);
    this.rotation = this.rotation.filter((e) => !removed.includes(e.path));
    const best = bestCheckpoint(this.rotation);
    const isBest = best !== null && path.resolve(best.path) === path.resolve(file);
    return { path: file, epoch, bytes: saved.bytes, sha256: saved.sha256, valTop1, isBest, removed };
  }
}

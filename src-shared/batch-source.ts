// The contract between the data pipeline (src-main/data) and the trainer (src-main/ml):
// batches of uint8 NHWC images with labels. Colour jitter and normalisation happen on the
// tensor side (src-main/ml/augment), so a batch carries what those need to draw their randomness.

export type Split = 'train' | 'val';

export interface Batch {
  split: Split;
  /** 1-based epoch this batch belongs to */
  epoch: number;
  /** 0-based position of the batch within the epoch */
  index: number;
  /** number of samples */
  n: number;
  height: number;
  width: number;
  /** uint8 RGB, NHWC, length n*height*width*3 (may be a view over shared memory) */
  images: Uint8Array;
  /** class index per sample (sorted-wnid order) */
  labels: Int32Array;
  /**
   * Stable per-sample key: the sample's index in the split's file list. Tensor-side augmentation
   * draws its randomness from (seed, epoch, sampleIds[i]) so it does not depend on batching.
   */
  sampleIds: Int32Array;
}

export interface EpochDataStats {
  split: Split;
  epoch: number;
  images: number;
  /** files that failed to decode and were skipped (counted, logged with path and reason) */
  skipped: number;
  skippedFiles: { path: string; reason: string }[];
  /** training image size used in this epoch (progressive resizing) */
  size: number;
  /** seconds spent producing the epoch's batches (loader side) */
  seconds: number;
}

export interface BatchSource {
  readonly numClasses: number;
  /** number of batches in an epoch of the split (after any maxSteps cap) */
  stepsPerEpoch(split: Split): number;
  /** image size the split uses in a 1-based epoch */
  imageSize(split: Split, epoch: number): number;
  /**
   * Batches of one epoch, in order. Training order is a seeded shuffle of (seed, epoch).
   * `startStep` skips the first batches without decoding them (resume mid-epoch).
   */
  batches(split: Split, epoch: number, opts?: { startStep?: number }): AsyncIterable<Batch>;
  /** stats of the last completed iteration over (split, epoch) */
  stats(split: Split, epoch: number): EpochDataStats | undefined;
  /** live augmentation changes for geometric transforms done in workers (crop/flip) */
  setAugment?(patch: import('./config/augment').AugmentPatch): void;
  close(): Promise<void>;
}

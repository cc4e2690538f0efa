// One evaluation of a checkpoint file to its end: the dataset (the run's, the demo dataset, or
// another root), a batch source whose validation transform is the protocol's, the checkpoint's
// model on the backend the run asked for (tfjs loaded on first use), the streaming evaluator, and
// cleanup. Used by the eval manager (stored results) and by `workstation eval` for a checkpoint
// file the store does not know (printed only).
//
// Protocols: 'run' = the run's own data.valTransform / valResize / valSize, with its batch size and
// file order, so the batches are the trainer's validation batches exactly; 'resize' = a plain
// resize to the run's valSize; 'center-crop' = the standard resize 256 / centre crop 224. The
// whole split is evaluated (data.maxValSteps does not apply). Split 'train' reads the training
// folder with the validation transform (no augmentation).
import path from 'node:path';
import type { EvalProtocol, EvalSplit, EvalTta, Evaluation } from '../../src-shared/api/schemas';
import { resolveRunConfig, type DataConfig, type RunConfig } from '../../src-shared/config/run-config';
import { WorkstationError } from '../../src-shared/errors';
import type { AppPaths } from '../common/paths';
import { createBatchSource } from '../data/batch-source';
import { ensureDemoDataset } from '../data/demo-dataset';
import { indexDataset, splitFilePath, type DatasetClass } from '../data/imagenet-index';
import type { ValTransformOptions } from '../data/transform';
import type { EvalOutcome, EvalProgress } from '../ml/eval/evaluator';

export interface EvalRequest {
  /** the checkpoint file */
  file: string;
  /** the run's settings at the checkpoint (configAtCheckpoint, or the file's own header) */
  config: Readonly<RunConfig>;
  protocol: EvalProtocol;
  /** null: the run's data.valTta */
  tta: EvalTta | null;
  split: EvalSplit;
  /** another dataset root (same class folders); null = the run's */
  dataRoot: string | null;
  mistakesPerClass?: number;
}

export interface EvalRunDeps {
  paths: AppPaths;
  signal?: AbortSignal;
  /** the dataset is indexed: how many images and batches the evaluation has */
  onStart?(info: { totalImages: number; steps: number; dataRoot: string }): void;
  onProgress?(p: EvalProgress): void;
  onLog?(level: 'info' | 'warn' | 'error', msg: string): void;
  /** a dataset root whose images clients may now see (the mistakes gallery) */
  addDatasetRoot?(root: string): void;
}

/** What an evaluation produces: the stored row without its ids and time. */
export type EvalRunResult = Omit<Evaluation, 'id' | 'checkpointId' | 'runId' | 'createdAt'>;

/** The validation transform of a protocol for a run's data settings. */
export function protocolTransform(protocol: EvalProtocol, data: Pick<DataConfig, 'valTransform' | 'valResize' | 'valSize'>): ValTransformOptions {
  if (protocol === 'center-crop') return { mode: 'resize-center-crop', resize: 256, size: 224 };
  if (protocol === 'resize') return { mode: 'resize', resize: data.valSize, size: data.valSize };
  return { mode: data.valTransform, resize: data.valResize, size: data.valSize };
}

/** The model's class list: the run's training classes, and a label map when the evaluated dataset orders them differently. */
async function modelClasses(
  runRoot: string,
  evalClasses: DatasetClass[],
  config: Readonly<RunConfig>,
  cacheDir: string,
  log: EvalRunDeps['onLog'],
): Promise<{ classes: DatasetClass[]; labelMap: Int32Array | null }> {
  let trained: DatasetClass[];
  try {
    trained = (await indexDataset(runRoot, { trainDir: config.data.trainDir, valDir: config.data.valDir, cacheDir })).classes;
  } catch (e) {
    log?.('warn', `the run's dataset ${runRoot} cannot be read (${(e as Error).message}): the evaluated dataset's class order is taken as the model's`);
    return { classes: evalClasses, labelMap: null };
  }
  const same = trained.length === evalClasses.length && trained.every((c, i) => c.wnid === evalClasses[i].wnid);
  if (same) return { classes: evalClasses, labelMap: null };
  const index = new Map(trained.map((c, i) => [c.wnid, i]));
  const labelMap = Int32Array.from(evalClasses, (c) => {
    const i = index.get(c.wnid);
    if (i === undefined)
      throw new WorkstationError('DATASET_ERROR', `class ${c.wnid} of the evaluated dataset is not one the run trained on (${runRoot})`, { field: 'dataRoot' });
    return i;
  });
  return { classes: trained, labelMap };
}

export async function runEvaluation(req: EvalRequest, deps: EvalRunDeps): Promise<EvalRunResult | 'cancelled'> {
  const { config } = req;
  if (req.dataRoot !== null && !path.isAbsolute(req.dataRoot))
    throw new WorkstationError('INVALID_ARGUMENT', `dataRoot must be an absolute path, got "${req.dataRoot}"`, { field: 'dataRoot', path: req.dataRoot });
  const { inspectCheckpoint, loadCheckpointInto } = await import('../ml/checkpoint');
  const summary = await inspectCheckpoint(req.file);
  const runRoot = config.data.root ?? (await ensureDemoDataset(deps.paths.demoDatasetDir));
  const root = req.dataRoot ? path.resolve(req.dataRoot) : runRoot;
  const tta = req.tta ?? config.data.valTta ?? 'none';
  const transform = protocolTransform(req.protocol, config.data);
  const evalConfig = resolveRunConfig([
    config,
    {
      data: {
        root,
        valDir: req.split === 'train' ? config.data.trainDir : config.data.valDir,
        valTransform: transform.mode,
        valResize: transform.resize,
        valSize: transform.size,
        maxValSteps: null,
      },
    },
  ]);
  if (deps.signal?.aborted) return 'cancelled';
  const source = await createBatchSource({ config: evalConfig, root, cacheDir: deps.paths.cacheDir, onLog: deps.onLog });
  let model: { dispose(): void } | null = null;
  try {
    deps.addDatasetRoot?.(root);
    const split = source.index.val;
    const { classes, labelMap } =
      root === path.resolve(runRoot)
        ? { classes: source.index.classes, labelMap: null }
        : await modelClasses(runRoot, source.index.classes, config, deps.paths.cacheDir, deps.onLog);
    deps.onStart?.({ totalImages: split.files.length, steps: source.stepsPerEpoch('val'), dataRoot: root });
    const [{ selectBackend }, { createModel }, { evaluate }] = await Promise.all([
      import('../ml/backend'),
      import('../ml/models/index'),
      import('../ml/eval/evaluator'),
    ]);
    await selectBackend(config.backend);
    const m = createModel(config.model, config.seed, { fusedKernels: config.train.fusedKernels });
    model = m;
    loadCheckpointInto(req.file, m);
    const out: EvalOutcome | 'cancelled' = await evaluate({
      model: m,
      source,
      normalize: config.augment.normalize,
      labelSmoothing: config.train.labelSmoothing,
      tta,
      classes,
      labelMap,
      filePath: (id) => splitFilePath(split, id),
      totalImages: split.files.length,
      mistakesPerClass: req.mistakesPerClass,
      signal: deps.signal,
      onProgress: deps.onProgress,
    });
    if (out === 'cancelled') return 'cancelled';
    return {
      split: req.split,
      protocol: req.protocol,
      tta,
      dataRoot: root,
      images: out.images,
      loss: out.loss,
      top1: out.top1,
      top5: out.top5,
      transform,
      checkpoint: { path: summary.path, epoch: summary.epoch, kind: summary.checkpointKind, stepInEpoch: summary.stepInEpoch },
      skipped: source.stats('val', 1)?.skipped ?? 0,
      seconds: out.seconds,
      perClass: out.perClass,
      confusions: out.confusions,
      mistakes: out.mistakes,
      mistakesPerClass: out.mistakesPerClass,
    };
  } finally {
    model?.dispose();
    await source.close();
  }
}

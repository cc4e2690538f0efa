// `workstation scale-out`: a self-contained folder that continues a run with PyTorch DDP, and the
// child run in the store that it reports into.
//
// The folder: train_ddp.py, run.sh and README.md from resources/scale-out (README filled in),
// config.json (the resolved run config in effect at the checkpoint, train.epochs = the target),
// scale-out.json (the plan: run ids, model widths, class wnids, dataset root, start point),
// val-files.json (the exact validation files and labels the workstation scores, capped subset
// included) and checkpoint.safetensors (torchvision-named weights + momentum buffers + header).
// The child run is created 'stopped' (it does not train in this process; resuming it here would
// start from the parent's checkpoint) with a 'fork' event like any fork and a 'note' event naming
// the folder, which is how `import-metrics` without a folder finds it. While train_ddp.py trains and
// reports to a live service (report.ts), the run is 'running', owned by its rank 0.
import fs from 'node:fs';
import path from 'node:path';
import type { CheckpointInfo, RunSummary } from '../../../src-shared/api/schemas';
import { diffConfigs, resolveRunConfig, type RunConfig } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { createRng, permutation, RNG_PURPOSE } from '../../../src-shared/random';
import { packageRoot, type AppPaths } from '../../common/paths';
import { ensureDemoDataset } from '../../data/demo-dataset';
import { indexDataset } from '../../data/imagenet-index';
import { checkpointPosition } from '../../ml/checkpoint';
import { exportTorchvision, type LoadedCheckpointFile } from '../../ml/interop/checkpoint-safetensors';
import { scaledWidth } from '../../ml/models/resnet';
import type { Store } from '../../store/index';

export { SCALE_OUT_ENGINE } from '../../../src-shared/api/schemas';
import { SCALE_OUT_ENGINE } from '../../../src-shared/api/schemas';
export const PLAN_FILE = 'scale-out.json';
export const METRICS_FILE = 'metrics.jsonl';
const TEMPLATES = ['train_ddp.py', 'torchrun.py', 'run.sh', 'README.md'] as const;

export interface ScaleOutPlan {
  format: 1;
  engine: typeof SCALE_OUT_ENGINE;
  runId: number;
  runName: string;
  parentRunId: number | null;
  parentCheckpointId: number | null;
  /** the store and data dir the child run lives in (import-metrics checks it is given the same; train_ddp.py reports live to the service of this data dir and store) */
  dbPath: string;
  dataDir: string;
  createdAt: string;
  dataRoot: string;
  checkpoint: 'checkpoint.safetensors';
  valFiles: 'val-files.json';
  targetEpochs: number;
  start: { epoch: number; kind: 'epoch' | 'mid-epoch'; stepInEpoch: number; globalStep: number; completedEpochs: number };
  stepsPerEpoch: number;
  model: { arch: 'resnet50'; numClasses: number; widthMultiplier: number; stem: number; planes: number[] };
  /** wnids in class-index order (the train folder names, sorted) */
  classes: string[];
}

/** resources/scale-out, read at runtime (never imported). */
export function templateDir(): string {
  return path.join(packageRoot(), 'resources', 'scale-out');
}

export interface ScaleOutInput {
  store: Store;
  paths: AppPaths;
  /** the checkpoint the continuation starts from, and its row when the store knows it */
  file: string;
  stored: CheckpointInfo | null;
  ck: LoadedCheckpointFile;
  outDir: string;
  /** the epoch the continuation ends at (default: the run's train.epochs) */
  epochs?: number;
  name?: string;
}

export interface ScaleOutResult {
  run: RunSummary;
  plan: ScaleOutPlan;
  outDir: string;
  files: string[];
}

function checkOutDir(dir: string): void {
  if (fs.existsSync(dir) && (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length > 0))
    throw new WorkstationError('INVALID_ARGUMENT', `--out: ${dir} exists and is not an empty folder; scale-out writes a new folder`, {
      field: 'out',
      path: dir,
    });
}

/** The validation files the workstation scores for this config, as paths relative to the val folder. */
function validationFiles(config: Readonly<RunConfig>, index: Awaited<ReturnType<typeof indexDataset>>): { files: string[]; labels: number[] } {
  const vbs = config.train.valBatchSize ?? config.train.batchSize;
  const n = index.val.files.length;
  const cap = config.data.maxValSteps;
  const take = cap === null ? n : Math.min(n, cap * vbs);
  // the batch source's capped subset: the same seeded permutation, key -1 (see data/batch-source.ts)
  const order = cap !== null && cap * vbs < n ? permutation(n, createRng(config.seed, RNG_PURPOSE.shuffle, -1)) : null;
  const files: string[] = [];
  const labels: number[] = [];
  const valDir = path.resolve(index.root, config.data.valDir);
  for (let k = 0; k < take; k++) {
    const i = order ? order[k] : k;
    files.push(path.relative(valDir, path.join(index.val.dir, index.val.files[i])).split(path.sep).join('/'));
    labels.push(index.val.labels[i]);
  }
  return { files, labels };
}

function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (m, k: string) => (k in values ? String(values[k]) : m));
}

export async function writeScaleOut(input: ScaleOutInput): Promise<ScaleOutResult> {
  const { store, paths, ck, stored } = input;
  const outDir = path.resolve(input.outDir);
  checkOutDir(outDir);
  const h = ck.header;
  const pos = checkpointPosition(h);
  const target = input.epochs ?? ck.config.train.epochs;
  if (!Number.isInteger(target) || target <= pos.completedEpochs)
    throw new WorkstationError(
      'INVALID_ARGUMENT',
      `--epochs: the continuation starts after epoch ${pos.completedEpochs}, so the epoch it ends at must be greater than ${pos.completedEpochs} (got ${target})`,
      { field: 'epochs' },
    );
  const config = resolveRunConfig([ck.config, { train: { epochs: target } }]);
  const dataRoot = config.data.root ?? (await ensureDemoDataset(paths.demoDatasetDir));
  const index = await indexDataset(dataRoot, { trainDir: config.data.trainDir, valDir: config.data.valDir, cacheDir: paths.cacheDir });
  const parent = stored ? (store.runs.get(stored.runId) ?? null) : null;
  const runName = input.name ?? `${parent?.name ?? config.name} ↳ DDP e${h.epoch}`;

  // the child run first: its id goes into the folder
  const run = store.transaction(() => {
    const r = store.runs.create({
      name: runName,
      config: resolveRunConfig([config, { name: runName }]),
      seed: config.seed,
      targetEpochs: target,
      parentRunId: parent?.id ?? null,
      parentCheckpointId: stored?.id ?? null,
      forkEpoch: parent ? h.epoch : null,
      status: 'stopped',
      backend: SCALE_OUT_ENGINE,
    });
    if (parent && stored) {
      const diff = diffConfigs(ck.config, config).filter((d) => d.field !== 'name');
      store.events.add({
        runId: r.id,
        kind: 'fork',
        epoch: h.epoch,
        data: {
          parentRunId: parent.id,
          parentCheckpointId: stored.id,
          forkEpoch: h.epoch,
          checkpointKind: pos.kind,
          stepInEpoch: pos.kind === 'mid-epoch' ? pos.stepInEpoch : null,
          checkpointPath: stored.path,
          resumeMode: 'exact',
          engine: SCALE_OUT_ENGINE,
          diff,
        },
      });
    }
    store.events.add({
      runId: r.id,
      kind: 'note',
      epoch: h.epoch,
      data: {
        message: `continues in PyTorch DDP (torchrun) from ${outDir}; \`workstation import-metrics ${outDir}\` brings its epochs back`,
        scaleOut: { dir: outDir, engine: SCALE_OUT_ENGINE, fromCheckpoint: input.file },
      },
    });
    return r;
  });

  const plan: ScaleOutPlan = {
    format: 1,
    engine: SCALE_OUT_ENGINE,
    runId: run.id,
    runName,
    parentRunId: parent?.id ?? null,
    parentCheckpointId: stored?.id ?? null,
    dbPath: path.resolve(store.path),
    dataDir: path.resolve(paths.dataDir), // train_ddp.py finds a live service here (service.json) to report to
    createdAt: new Date().toISOString(),
    dataRoot,
    checkpoint: 'checkpoint.safetensors',
    valFiles: 'val-files.json',
    targetEpochs: target,
    start: { epoch: h.epoch, kind: pos.kind, stepInEpoch: pos.stepInEpoch, globalStep: h.step, completedEpochs: pos.completedEpochs },
    stepsPerEpoch: h.stepsPerEpoch,
    model: {
      arch: 'resnet50',
      numClasses: h.numClasses,
      widthMultiplier: h.widthMultiplier,
      stem: scaledWidth(64, h.widthMultiplier),
      planes: [64, 128, 256, 512].map((b) => scaledWidth(b, h.widthMultiplier)),
    },
    classes: index.classes.map((c) => c.wnid),
  };

  // write into a temp sibling and rename, so a half-written folder never looks like a scale-out
  const tmp = `${outDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    exportTorchvision({ ...ck, config }, path.join(tmp, plan.checkpoint), {
      classes: index.classes.map((c) => ({ wnid: c.wnid, name: c.name })),
      withTrainingState: true,
    });
    fs.writeFileSync(path.join(tmp, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    fs.writeFileSync(path.join(tmp, PLAN_FILE), JSON.stringify(plan, null, 2) + '\n');
    fs.writeFileSync(path.join(tmp, plan.valFiles), JSON.stringify(validationFiles(config, index)) + '\n');
    const values: Record<string, string | number> = {
      runId: run.id,
      runName,
      parentRunId: parent?.id ?? '-',
      parentName: parent?.name ?? path.basename(input.file),
      createdAt: plan.createdAt,
      startPoint:
        pos.kind === 'epoch'
          ? `the end of epoch ${h.epoch} (global step ${h.step})`
          : `epoch ${h.epoch}, step ${pos.stepInEpoch} of ${h.stepsPerEpoch} (global step ${h.step})`,
      targetEpochs: target,
      dataRoot,
      trainDir: config.data.trainDir,
      valDir: config.data.valDir,
      outDir,
      dbPath: plan.dbPath,
      dataDir: plan.dataDir,
      width: h.widthMultiplier,
      numClasses: h.numClasses,
      globalStep: h.step,
      schedule: config.schedule.policy,
      globalBatch: config.train.batchSize,
      stepsPerEpoch: h.stepsPerEpoch,
    };
    for (const t of TEMPLATES) {
      const src = path.join(templateDir(), t);
      const text = fs.readFileSync(src, 'utf8');
      fs.writeFileSync(path.join(tmp, t), t === 'README.md' ? fill(text, values) : text, { mode: t === 'README.md' ? 0o644 : 0o755 });
    }
    fs.rmSync(outDir, { recursive: true, force: true }); // an empty folder (checked above)
    fs.mkdirSync(path.dirname(outDir), { recursive: true });
    fs.renameSync(tmp, outDir);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    store.runs.delete(run.id);
    throw e;
  }
  return { run: store.runs.get(run.id)!, plan, outDir, files: fs.readdirSync(outDir).sort() };
}

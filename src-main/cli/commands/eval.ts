// `workstation eval --checkpoint C [--data ROOT] [--split val|train] [--protocol run|resize|center-crop]
//  [--tta none|flip] [--db …] [--data-dir …] [--json]`
// Evaluates a checkpoint in eval mode over a whole split and prints loss, top-1/top-5, the
// per-class table and every confusion. In-process: a checkpoint the store knows (by id or path)
// goes through this process's own service (`eval.start`, the same code the app runs), and the
// result is stored with the checkpoint (the app's Evaluation view lists it); any other checkpoint
// file is evaluated directly and only printed. Progress goes to stderr; Ctrl-C cancels (exit 130,
// nothing stored). With --json stdout carries exactly one JSON document.
import fs from 'node:fs';
import path from 'node:path';
import type { CheckpointInfo, EvalJob, EvalProtocol, EvalSplit, EvalTta, Evaluation } from '../../../src-shared/api/schemas';
import { EVAL_PROTOCOLS, EVAL_SPLITS, EVAL_TTAS } from '../../../src-shared/api/schemas';
import { resolveRunConfig, type RunConfig } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { bool, str, type ParsedArgs } from '../../common/args';
import { appPaths } from '../../common/paths';
import type { CheckpointHeader } from '../../ml/checkpoint';
import { readCheckpointFile } from '../../ml/checkpoint-file';
import { runEvaluation, type EvalRunResult } from '../../service/eval-run';
import { openStore } from '../../store/index';
import { gateBackendForCli } from '../backend-gate';
import type { CliIO, CommandSpec } from '../command';
import { DB_FLAG, resolveDbPath } from '../db-flag';
import { DATA_DIR_FLAG, openCliService, resolveDataDir } from '../service-session';

function oneOf<T extends string>(args: ParsedArgs, flag: string, allowed: readonly T[]): T | undefined {
  const v = str(args, flag);
  if (v !== undefined && !(allowed as readonly string[]).includes(v))
    throw new WorkstationError('INVALID_ARGUMENT', `--${flag} must be one of ${allowed.join(', ')}, got "${v}"`, { field: flag });
  return v as T | undefined;
}

/** --checkpoint: digits that are not a file name a store checkpoint; anything else is a file (known to the store or not). */
function resolveCheckpoint(args: ParsedArgs, io: CliIO): { file: string; stored: CheckpointInfo | null } {
  const arg = str(args, 'checkpoint')!;
  const file = path.resolve(io.cwd, arg);
  const dbPath = resolveDbPath(args, io);
  const byId = /^\d+$/.test(arg) && !fs.existsSync(file);
  if (!byId && !fs.existsSync(file)) throw new WorkstationError('NOT_FOUND', `--checkpoint: ${file} not found`, { field: 'checkpoint', path: file });
  if (!byId && !fs.existsSync(dbPath)) return { file, stored: null };
  const store = openStore(dbPath);
  try {
    if (byId) {
      const cp = store.checkpoints.get(Number(arg));
      if (!cp) throw new WorkstationError('NOT_FOUND', `--checkpoint: no checkpoint ${arg} in ${dbPath}`, { field: 'checkpoint' });
      if (!cp.exists)
        throw new WorkstationError('NOT_FOUND', `--checkpoint: checkpoint ${arg}'s file was removed (${cp.path})`, { field: 'checkpoint', path: cp.path });
      return { file: path.resolve(cp.path), stored: cp };
    }
    for (const run of store.runs.list())
      for (const cp of store.checkpoints.list(run.id)) if (cp.exists && path.resolve(cp.path) === file) return { file, stored: cp };
    return { file, stored: null };
  } finally {
    store.close();
  }
}

const pct = (v: number | null) => (v === null ? '-' : `${v.toFixed(2)}%`);

function progressLine(j: EvalJob): string {
  const total = j.totalImages ?? '?';
  const rate = j.imagesPerSec === null ? '' : ` ${j.imagesPerSec.toFixed(1)} img/s`;
  const eta = j.etaSeconds === null ? '' : ` eta ${Math.round(j.etaSeconds)}s`;
  return `eval ${j.evalId}: ${j.images}/${total} images, batch ${j.step}/${j.steps ?? '?'}, top1 ${pct(j.top1)}${rate}${eta}\n`;
}

/** In this process's service: queued like the app's evaluations, stored with the checkpoint. */
async function evalInService(
  args: ParsedArgs,
  io: CliIO,
  cp: CheckpointInfo,
  req: Req,
): Promise<{ result: Evaluation | null; state: EvalJob['state']; error: string | null }> {
  const service = await openCliService(args, io, { autoResume: false });
  const seen = new Map<number, EvalJob>();
  let evalId: number | null = null;
  let finish: (j: EvalJob) => void = () => undefined;
  const done = new Promise<EvalJob>((resolve) => (finish = resolve));
  const isEnd = (j: EvalJob) => j.state === 'completed' || j.state === 'cancelled' || j.state === 'failed';
  let lastLine = 0;
  const off = service.on('eval.progress', (j) => {
    seen.set(j.evalId, j);
    if (j.evalId !== evalId) return;
    if (isEnd(j)) finish(j);
    else if (j.state === 'queued' && j.waitingFor) io.stderr(`eval ${j.evalId}: waiting: ${j.waitingFor}\n`);
    else if (Date.now() - lastLine >= 1000 || j.images === j.totalImages) {
      lastLine = Date.now();
      io.stderr(progressLine(j));
    }
  });
  const onAbort = () => {
    if (evalId === null) return;
    io.stderr(`interrupted: cancelling evaluation ${evalId} (nothing is stored)\n`);
    service.call('eval.cancel', { evalId }).catch(() => undefined);
  };
  try {
    const job = await service.call('eval.start', { checkpointId: cp.id, protocol: req.protocol, tta: req.tta, split: req.split, dataRoot: req.dataRoot });
    evalId = job.evalId;
    const already = seen.get(job.evalId);
    if (already && isEnd(already)) finish(already);
    io.stderr(
      `evaluation ${job.evalId} of checkpoint ${cp.id} (run ${cp.runId}, epoch ${cp.epoch}): protocol ${job.protocol}, tta ${job.tta}, split ${job.split}\n`,
    );
    io.signal.addEventListener('abort', onAbort, { once: true });
    if (io.signal.aborted) onAbort();
    const last = await done;
    if (last.state !== 'completed' || last.evaluationId === null) return { result: null, state: last.state, error: last.error };
    return { result: await service.call('eval.get', { evaluationId: last.evaluationId }), state: 'completed', error: null };
  } finally {
    io.signal.removeEventListener('abort', onAbort);
    off();
    await service.close();
  }
}

interface Req {
  protocol: EvalProtocol;
  tta: EvalTta | null;
  split: EvalSplit;
  dataRoot: string | null;
}

/** A checkpoint file the store does not know: its own header's settings, evaluated here, not stored. */
async function evalFile(args: ParsedArgs, io: CliIO, file: string, req: Req): Promise<EvalRunResult | 'cancelled'> {
  const h = readCheckpointFile<CheckpointHeader>(file, false).header;
  if (h.kind !== 'workstation-checkpoint') throw new WorkstationError('CHECKPOINT_CORRUPT', `${file} is not a workstation checkpoint`, { path: file });
  const config: Readonly<RunConfig> = resolveRunConfig([h.config, h.augment ? { augment: h.augment } : {}], file);
  io.stderr(`note: the store does not know ${file}: it is evaluated here and the result is printed, not stored\n`);
  await gateBackendForCli(config, args, io);
  let last = 0;
  return runEvaluation(
    { file, config, ...req },
    {
      paths: appPaths(resolveDataDir(args, io), resolveDbPath(args, io)),
      signal: io.signal,
      onLog: (level, msg) => io.stderr(`[${level}] ${msg}\n`),
      onProgress: (p) => {
        if (Date.now() - last < 1000 && p.step !== p.steps) return;
        last = Date.now();
        io.stderr(`eval: ${p.images}/${p.totalImages ?? '?'} images, batch ${p.step}/${p.steps}, top1 ${pct(p.top1)}\n`);
      },
    },
  );
}

function print(io: CliIO, json: boolean, r: EvalRunResult, meta: { evaluationId: number | null; checkpoint: Record<string, unknown> }): void {
  if (json) {
    io.stdout(
      JSON.stringify({
        evaluationId: meta.evaluationId,
        checkpoint: meta.checkpoint,
        split: r.split,
        protocol: r.protocol,
        tta: r.tta,
        dataRoot: r.dataRoot,
        transform: r.transform,
        images: r.images,
        skipped: r.skipped,
        loss: r.loss,
        top1: r.top1,
        top5: r.top5,
        seconds: r.seconds,
        perClass: r.perClass,
        confusions: r.confusions,
        mistakes: r.mistakes,
      }) + '\n',
    );
    return;
  }
  io.stdout(`checkpoint ${meta.checkpoint.path}${meta.evaluationId !== null ? ` (stored as evaluation ${meta.evaluationId})` : ''}\n`);
  io.stdout(
    `${r.split} ${r.images} images (${r.protocol}: ${r.transform.mode} ${r.transform.resize}/${r.transform.size}, tta ${r.tta}${r.skipped ? `, ${r.skipped} skipped` : ''})\n`,
  );
  io.stdout(`loss ${r.loss?.toFixed(4) ?? '-'}  top-1 ${pct(r.top1)}  top-5 ${pct(r.top5)}\n`);
  const name = (c: number) => r.perClass[c]?.name ?? `class ${c}`;
  const worst = r.perClass.filter((c) => c.images > 0).sort((a, b) => (a.top1 ?? 0) - (b.top1 ?? 0) || a.classIndex - b.classIndex);
  io.stdout(`\nlowest top-1 classes:\n`);
  for (const c of worst.slice(0, 10))
    io.stdout(`  ${pct(c.top1).padStart(8)}  ${String(c.images).padStart(5)} images  ${c.classIndex} ${c.wnid ?? ''} ${c.name ?? ''}\n`);
  io.stdout(`\ntop confusions (true → predicted):\n`);
  for (const x of r.confusions.slice(0, 10)) io.stdout(`  ${String(x.count).padStart(5)}  ${name(x.true)} → ${name(x.predicted)}\n`);
}

const command: CommandSpec = {
  name: 'eval',
  summary: 'Evaluate a checkpoint on a split: loss, top-1/top-5, per-class table and confusions (stored with the checkpoint)',
  flags: {
    checkpoint: { type: 'string', required: true, description: 'checkpoint id in the store, or a checkpoint file (.ckpt)' },
    data: { type: 'string', description: "dataset root to evaluate (its class folders; default: the run's dataset)" },
    split: { type: 'string', default: 'val', description: `split: ${EVAL_SPLITS.join(' | ')} (train: the training folder with the validation transform)` },
    protocol: {
      type: 'string',
      default: 'run',
      description: "run (the run's own validation transform) | resize (plain resize to the run's valSize) | center-crop (resize 256, centre crop 224)",
    },
    tta: { type: 'string', description: `test-time augmentation: ${EVAL_TTAS.join(' | ')} (default: the run's data.valTta)` },
    json: {
      type: 'boolean',
      description:
        'print one JSON document: {evaluationId, checkpoint, images, loss, top1, top5, perClass: […], confusions: [{true, predicted, count}…], mistakes}',
    },
    ...DB_FLAG,
    ...DATA_DIR_FLAG,
  },
  async run(args, io) {
    const req: Req = {
      protocol: oneOf(args, 'protocol', EVAL_PROTOCOLS) ?? 'run',
      tta: oneOf(args, 'tta', EVAL_TTAS) ?? null,
      split: oneOf(args, 'split', EVAL_SPLITS) ?? 'val',
      dataRoot: str(args, 'data') !== undefined ? path.resolve(io.cwd, str(args, 'data')!) : null,
    };
    const { file, stored } = resolveCheckpoint(args, io);
    const json = bool(args, 'json');
    if (stored) {
      const r = await evalInService(args, io, stored, req);
      if (r.state === 'cancelled') return 130;
      if (!r.result) {
        io.stderr(`workstation eval: evaluation failed: ${r.error ?? 'unknown error'}\n`);
        return 1;
      }
      const e = r.result;
      print(io, json, e, {
        evaluationId: e.id,
        checkpoint: {
          id: stored.id,
          runId: stored.runId,
          path: e.checkpoint.path,
          epoch: e.checkpoint.epoch,
          kind: e.checkpoint.kind,
          stepInEpoch: e.checkpoint.stepInEpoch,
        },
      });
      return 0;
    }
    const r = await evalFile(args, io, file, req);
    if (r === 'cancelled') return 130;
    print(io, json, r, {
      evaluationId: null,
      checkpoint: { id: null, runId: null, path: r.checkpoint.path, epoch: r.checkpoint.epoch, kind: r.checkpoint.kind, stepInEpoch: r.checkpoint.stepInEpoch },
    });
    return 0;
  },
};

export default command;

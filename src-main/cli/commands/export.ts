// `workstation export --checkpoint C --format torchvision|tfjs --out PATH [--classes FILE] [--json]`
//  - torchvision: one .safetensors file holding torchvision's resnet50 state_dict (names, OIHW
//    layouts, int64 num_batches_tracked) + __metadata__ (arch, classes, width, epoch, wnids in
//    index order, val transform). At width 1 it loads into torchvision.models.resnet50(num_classes=N)
//    with strict=True; other widths load into the project's PyTorch model (resources/scale-out).
//  - tfjs: a LayersModel folder (model.json + weight shards) for tf.loadLayersModel; after writing,
//    it is loaded back and its logits compared with the checkpoint's model (--no-verify skips that).
import path from 'node:path';
import { BACKENDS, type BackendRequest } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { bool, str } from '../../common/args';
import { selectBackend } from '../../ml/backend';
import { exportMetadata, exportTorchvision, valTransformOf } from '../../ml/interop/checkpoint-safetensors';
import { modelFromArrays } from '../../ml/interop/predict';
import { exportTfjs, verifyTfjsExport } from '../../ml/interop/tfjs-export';
import { describeModel } from '../../ml/models/index';
import type { CommandSpec } from '../command';
import { CHECKPOINT_FLAG, CLASSES_FLAG, classesFor, resolveCheckpointSource } from '../checkpoint-source';
import { DB_FLAG } from '../db-flag';
import { DATA_DIR_FLAG } from '../service-session';

export const EXPORT_FORMATS = ['torchvision', 'tfjs'] as const;

/** Logits of the re-loaded tfjs model must agree with ours to this relative tolerance. */
const TFJS_TOLERANCE = 1e-4;

const command: CommandSpec = {
  name: 'export',
  summary: 'Export a checkpoint as torchvision weights (.safetensors) or a tfjs LayersModel folder',
  flags: {
    ...CHECKPOINT_FLAG,
    format: { type: 'string', required: true, description: `${EXPORT_FORMATS.join(' | ')}` },
    out: { type: 'string', required: true, description: 'torchvision: the .safetensors file; tfjs: the folder for model.json + shards' },
    ...CLASSES_FLAG,
    verify: { type: 'boolean', default: true, description: 'tfjs: load the folder back and compare logits (default on; --no-verify skips it)' },
    backend: { type: 'string', default: 'auto', description: `tfjs backend for the tfjs export: ${BACKENDS.join(', ')}` },
    json: { type: 'boolean', description: 'print the result as JSON' },
    ...DB_FLAG,
    ...DATA_DIR_FLAG,
  },
  async run(args, io) {
    const format = str(args, 'format')!;
    if (!(EXPORT_FORMATS as readonly string[]).includes(format))
      throw new WorkstationError('INVALID_ARGUMENT', `--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${format}"`, { field: 'format' });
    const backend = str(args, 'backend')!;
    if (!(BACKENDS as readonly string[]).includes(backend))
      throw new WorkstationError('INVALID_ARGUMENT', `--backend must be one of ${BACKENDS.join(', ')}, got "${backend}"`, { field: 'backend' });
    const out = path.resolve(io.cwd, str(args, 'out')!);
    const src = resolveCheckpointSource(args, io);
    const { ck } = src;
    const { classes, why } = await classesFor(ck.config, args, io);
    if (why) io.stderr(`note: no class names in the export: ${why}\n`);
    const h = ck.header;
    let result: Record<string, unknown>;
    if (format === 'torchvision') {
      if (!out.endsWith('.safetensors')) io.stderr(`note: ${out} does not end in .safetensors\n`);
      const r = exportTorchvision(ck, out, { classes });
      result = { format, out, tensors: r.tensors, bytes: r.bytes, metadata: r.metadata };
    } else {
      await selectBackend(backend as BackendRequest);
      const spec = describeModel({ arch: 'resnet50', numClasses: h.numClasses, widthMultiplier: h.widthMultiplier });
      const meta = exportMetadata(ck, classes);
      const r = await exportTfjs(spec, ck.model, out, {
        workstation: {
          arch: h.arch,
          numClasses: h.numClasses,
          widthMultiplier: h.widthMultiplier,
          epoch: h.epoch,
          globalStep: h.step,
          weightsSha256: h.weightsSha256,
          wnids: classes?.map((c) => c.wnid) ?? null,
          classNames: classes?.map((c) => c.name) ?? null,
          valTransform: valTransformOf(ck.config, ck.augment),
          input: 'NHWC float32, RGB scaled to [0, 1] then normalised with valTransform.mean / std',
          output: 'logits',
        },
        safetensorsMetadata: meta,
      });
      result = { format, out, files: r.files, bytes: r.bytes };
      if (bool(args, 'verify')) {
        const model = modelFromArrays(h, ck.model);
        try {
          const v = await verifyTfjsExport(out, model, Math.min(64, ck.config.data.valSize));
          result.verify = v;
          if (!(v.maxAbsDiff <= TFJS_TOLERANCE * Math.max(1, v.maxAbsLogit)))
            throw new WorkstationError(
              'INTERNAL',
              `the exported tfjs model disagrees with the checkpoint: logits differ by up to ${v.maxAbsDiff} (largest logit ${v.maxAbsLogit})`,
              { path: out },
            );
        } finally {
          model.dispose();
        }
      }
    }
    if (bool(args, 'json')) io.stdout(JSON.stringify(result, null, 2) + '\n');
    else {
      io.stdout(`exported ${src.file} (epoch ${h.epoch}, ${h.arch} ×${h.widthMultiplier}, ${h.numClasses} classes) as ${format}: ${out}\n`);
      if (result.verify) {
        const v = result.verify as { maxAbsDiff: number };
        io.stdout(`verified: tf.loadLayersModel gives the checkpoint's logits (max |difference| ${v.maxAbsDiff.toExponential(2)})\n`);
      }
    }
    return 0;
  },
};
export default command;

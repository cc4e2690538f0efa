// `workstation predict --checkpoint C --image PATH [--image …] [--top 5] [--classes FILE] [--json]`:
// the checkpoint's model (eval mode) on images prepared with the run's validation transform
// (the same decode + resize/centre-crop + normalise that validation uses). --json prints
// [{"image", "top": [{"classIndex", "wnid", "name", "prob"}], "logits": […]}]. A file that is not
// an image (or is cut short) is an error naming it, before anything is computed.
import fs from 'node:fs';
import path from 'node:path';
import { BACKENDS, type BackendRequest } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { bool, list, num, str } from '../../common/args';
import { applyValTransform, assertCompleteImage, orientedSize } from '../../data/transform';
import { selectBackend } from '../../ml/backend';
import { modelFromArrays, predictImages, type PredictImage } from '../../ml/interop/predict';
import type { CommandSpec } from '../command';
import { CHECKPOINT_FLAG, CLASSES_FLAG, classesFor, resolveCheckpointSource } from '../checkpoint-source';
import { DB_FLAG } from '../db-flag';
import { DATA_DIR_FLAG } from '../service-session';

/** One image through the validation transform; any failure is an error naming the file. */
export async function prepareImage(file: string, val: { mode: 'resize-center-crop' | 'resize'; resize: number; size: number }): Promise<PredictImage> {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WorkstationError('NOT_FOUND', `--image ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { field: 'image', path: file });
  }
  try {
    assertCompleteImage(data);
    const px = await applyValTransform(data, val, await orientedSize(data));
    return { image: file, pixels: px.data };
  } catch (e) {
    const why = ((e as Error).message ?? String(e)).split('\n')[0];
    throw new WorkstationError('DECODE_ERROR', `--image ${file} is not an image that can be read (${why})`, { field: 'image', path: file });
  }
}

const command: CommandSpec = {
  name: 'predict',
  summary: "Classify images with a checkpoint's model, using the run's validation transform",
  flags: {
    ...CHECKPOINT_FLAG,
    image: { type: 'string[]', required: true, description: 'image file (repeat for several)' },
    top: { type: 'number', default: 5, description: 'classes listed per image (default 5)' },
    ...CLASSES_FLAG,
    backend: { type: 'string', default: 'auto', description: `tfjs backend: ${BACKENDS.join(', ')}` },
    json: { type: 'boolean', description: 'print [{image, top: [{classIndex, wnid, name, prob}], logits}]' },
    ...DB_FLAG,
    ...DATA_DIR_FLAG,
  },
  async run(args, io) {
    const top = num(args, 'top')!;
    if (!Number.isInteger(top) || top < 1) throw new WorkstationError('INVALID_ARGUMENT', `--top must be a positive integer, got ${top}`, { field: 'top' });
    const backend = str(args, 'backend')!;
    if (!(BACKENDS as readonly string[]).includes(backend))
      throw new WorkstationError('INVALID_ARGUMENT', `--backend must be one of ${BACKENDS.join(', ')}, got "${backend}"`, { field: 'backend' });
    const { ck } = resolveCheckpointSource(args, io);
    const d = ck.config.data;
    const val = { mode: d.valTransform, resize: d.valResize, size: d.valSize };
    const images: PredictImage[] = [];
    for (const p of list(args, 'image')) images.push(await prepareImage(path.resolve(io.cwd, p), val));
    const { classes, why } = await classesFor(ck.config, args, io);
    if (why) io.stderr(`note: ${why}\n`);
    await selectBackend(backend as BackendRequest);
    const model = modelFromArrays(ck.header, ck.model);
    let predictions;
    try {
      predictions = predictImages(model, images, { size: d.valSize, normalize: ck.augment.normalize, classes, top });
    } finally {
      model.dispose();
    }
    if (bool(args, 'json')) io.stdout(JSON.stringify(predictions) + '\n');
    else
      for (const p of predictions) {
        io.stdout(`${p.image}\n`);
        for (const t of p.top)
          io.stdout(`  ${(t.prob * 100).toFixed(2).padStart(6)}%  ${String(t.classIndex).padStart(5)}  ${t.wnid ?? '-'}  ${t.name ?? ''}\n`);
      }
    return 0;
  },
};
export default command;

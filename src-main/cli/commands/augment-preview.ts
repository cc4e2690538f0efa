// `workstation augment preview --image <path> [--image …] --count N --seed S [--params <json>]
// [--size 224] --out <dir> [--json]`: writes augmented samples exactly as training produces them
// (sample-000.png …) and prints the parameters drawn for each (crop box, flip, jitter).
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AugmentPatchSchema, AugmentSchema, applyAugmentPatch, type AugmentParams } from '../../../src-shared/config/augment';
import { BACKENDS, zodIssueToError, type BackendRequest } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { bool, list, num, str } from '../../common/args';
import type { CommandSpec } from '../command';
import { previewAugment, PREVIEW_LIMITS } from '../../data/preview';
import { selectBackend } from '../../ml/backend';

/** --params: a JSON AugmentPatch over the seed's defaults; errors name the offending field. */
export function parseAugmentParams(text: string | undefined): AugmentParams {
  const defaults = AugmentSchema.parse({});
  if (text === undefined) return defaults;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new WorkstationError('INVALID_ARGUMENT', `--params is not valid JSON: ${(e as Error).message}`, { field: 'params' });
  }
  const patch = AugmentPatchSchema.safeParse(json);
  if (!patch.success) throw prefixed(zodIssueToError(patch.error, 'INVALID_ARGUMENT'));
  try {
    return applyAugmentPatch(defaults, patch.data);
  } catch (e) {
    // the merge is validated again: e.g. a scale minimum above the default maximum
    if (e instanceof z.ZodError) throw prefixed(zodIssueToError(e, 'INVALID_ARGUMENT'));
    throw e;
  }
}

function prefixed(e: WorkstationError): WorkstationError {
  return new WorkstationError(e.code, `--params: ${e.message}`, { field: e.field ? `params.${e.field}` : 'params' });
}

const command: CommandSpec = {
  name: 'augment preview',
  summary: 'Write augmented samples as the model sees them (PNG) and print the drawn parameters',
  flags: {
    image: { type: 'string[]', required: true, description: 'source image (repeat for several; samples cycle over them)' },
    count: { type: 'number', default: 8, description: `number of samples, 1-${PREVIEW_LIMITS.count} (default 8)` },
    seed: { type: 'number', default: 0, description: 'seed: the same seed gives byte-identical PNGs (default 0)' },
    params: { type: 'string', description: 'augmentation changes as JSON over the defaults, e.g. \'{"colorJitter":{"p":1},"hflip":0}\'' },
    size: { type: 'number', default: 224, description: `output size in pixels, ${PREVIEW_LIMITS.minSize}-${PREVIEW_LIMITS.maxSize} (default 224)` },
    out: { type: 'string', required: true, description: 'directory for sample-000.png …' },
    backend: { type: 'string', default: 'auto', description: `tfjs backend for the colour jitter: ${BACKENDS.join(', ')} (default auto)` },
    json: { type: 'boolean', description: 'print {samples: [{file, source, params}]} as JSON' },
  },
  async run(args, io) {
    const params = parseAugmentParams(str(args, 'params'));
    const backend = str(args, 'backend')!;
    if (!(BACKENDS as readonly string[]).includes(backend))
      throw new WorkstationError('INVALID_ARGUMENT', `--backend must be one of ${BACKENDS.join(', ')}, got "${backend}"`, { field: 'backend' });
    await selectBackend(backend as BackendRequest);
    const images = list(args, 'image').map((p) => path.resolve(io.cwd, p));
    const outDir = path.resolve(io.cwd, str(args, 'out')!);
    const { samples } = await previewAugment({ images, count: num(args, 'count')!, seed: num(args, 'seed')!, params, size: num(args, 'size')! });
    fs.mkdirSync(outDir, { recursive: true });
    const written = samples.map((s, i) => {
      const file = path.join(outDir, `sample-${String(i).padStart(3, '0')}.png`);
      fs.writeFileSync(file, s.png);
      return { file, source: s.source, params: s.params };
    });
    if (bool(args, 'json')) {
      io.stdout(JSON.stringify({ samples: written }, null, 2) + '\n');
    } else {
      for (const w of written) {
        const { crop, flip, jitter } = w.params;
        const j =
          jitter && jitter.applied
            ? `jitter b${jitter.brightness.toFixed(3)} c${jitter.contrast.toFixed(3)} s${jitter.saturation.toFixed(3)} h${jitter.hue.toFixed(3)} [${jitter.order.join(' ')}]`
            : 'no jitter';
        io.stdout(
          `${path.basename(w.file)}  ${path.basename(w.source)}  crop ${crop.width}×${crop.height}+${crop.x}+${crop.y}${flip ? '  flipped' : ''}  ${j}\n`,
        );
      }
      io.stderr(`wrote ${written.length} samples to ${outDir}\n`);
    }
    return 0;
  },
};

export default command;

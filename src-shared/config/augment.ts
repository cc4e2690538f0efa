// Augmentation parameters: the seed's albumentations pipeline (RandomResizedCrop, HorizontalFlip,
// ColorJitter, Normalize). Live-editable from the app between batches.
import { z } from 'zod';

const range = (lo: number, hi: number) =>
  z.tuple([z.number().min(lo).max(hi), z.number().min(lo).max(hi)]).refine(([a, b]) => a <= b, { message: 'range must be [min, max] with min <= max' });

export const RandomResizedCropSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** fraction of the image area, torchvision/albumentations default (0.08, 1.0) */
  scale: range(0.0001, 1).default([0.08, 1.0]),
  /** aspect ratio w/h, sampled log-uniformly; default (3/4, 4/3) */
  ratio: range(0.01, 100).default([3 / 4, 4 / 3]),
  attempts: z.number().int().min(1).max(100).default(10),
});

export const ColorJitterSchema = z.strictObject({
  brightness: z.number().min(0).max(10).default(0.2),
  contrast: z.number().min(0).max(10).default(0.2),
  saturation: z.number().min(0).max(10).default(0.2),
  hue: z.number().min(0).max(0.5).default(0.05),
  /** probability that the whole transform is applied to a sample */
  p: z.number().min(0).max(1).default(0.5),
});

export const NormalizeSchema = z.strictObject({
  mean: z.tuple([z.number(), z.number(), z.number()]).default([0.485, 0.456, 0.406]),
  std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]).default([0.229, 0.224, 0.225]),
});

export const AugmentSchema = z.strictObject({
  randomResizedCrop: RandomResizedCropSchema.default(RandomResizedCropSchema.parse({})),
  /** probability of a horizontal flip */
  hflip: z.number().min(0).max(1).default(0.5),
  colorJitter: ColorJitterSchema.default(ColorJitterSchema.parse({})),
  normalize: NormalizeSchema.default(NormalizeSchema.parse({})),
});

export type RandomResizedCropParams = z.infer<typeof RandomResizedCropSchema>;
export type ColorJitterParams = z.infer<typeof ColorJitterSchema>;
export type NormalizeParams = z.infer<typeof NormalizeSchema>;
export type AugmentParams = z.infer<typeof AugmentSchema>;
/**
 * Patch form of an object schema: every field optional and WITHOUT its default. (zod's .partial()
 * keeps field defaults, which turns a one-field patch such as {brightness} into a reset of the
 * other fields of the group to their defaults.)
 */
function patchOf<T extends z.ZodRawShape>(schema: z.ZodObject<T>): ReturnType<z.ZodObject<T>['partial']> {
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(schema.shape)) shape[k] = (v instanceof z.ZodDefault ? (v.unwrap() as z.ZodType) : (v as z.ZodType)).optional();
  return z.strictObject(shape) as unknown as ReturnType<z.ZodObject<T>['partial']>;
}

/** Partial update (app sliders): any subset of fields; fields not named keep their value. */
export const AugmentPatchSchema = z.strictObject({
  randomResizedCrop: patchOf(RandomResizedCropSchema).optional(),
  hflip: z.number().min(0).max(1).optional(),
  colorJitter: patchOf(ColorJitterSchema).optional(),
  normalize: patchOf(NormalizeSchema).optional(),
});
export type AugmentPatch = z.infer<typeof AugmentPatchSchema>;

export function applyAugmentPatch(base: AugmentParams, patch: AugmentPatch): AugmentParams {
  return AugmentSchema.parse({
    randomResizedCrop: { ...base.randomResizedCrop, ...patch.randomResizedCrop },
    hflip: patch.hflip ?? base.hflip,
    colorJitter: { ...base.colorJitter, ...patch.colorJitter },
    normalize: { ...base.normalize, ...patch.normalize },
  });
}

// The tuner's slider values and their mapping to an AugmentPatch.
import type { AugmentParams, AugmentPatch } from '../../../src-shared/config/augment';
import { AugmentSchema } from '../../../src-shared/config/augment';
import type { DrawnParams } from '../../../src-shared/api/schemas';

export interface AugmentSliders {
  brightness: number;
  contrast: number;
  saturation: number;
  hue: number;
  jitterP: number;
  hflip: number;
  scaleMin: number;
  scaleMax: number;
  ratioMin: number;
  ratioMax: number;
}

/** Slider values from a full or partial augment config (a run's config, or the live one). */
export function slidersFrom(augment: unknown): AugmentSliders {
  let a: AugmentParams;
  try {
    a = AugmentSchema.parse(augment ?? {});
  } catch {
    a = AugmentSchema.parse({});
  }
  return {
    brightness: a.colorJitter.brightness,
    contrast: a.colorJitter.contrast,
    saturation: a.colorJitter.saturation,
    hue: a.colorJitter.hue,
    jitterP: a.colorJitter.p,
    hflip: a.hflip,
    scaleMin: a.randomResizedCrop.scale[0],
    scaleMax: a.randomResizedCrop.scale[1],
    ratioMin: a.randomResizedCrop.ratio[0],
    ratioMax: a.randomResizedCrop.ratio[1],
  };
}

export function slidersToPatch(s: AugmentSliders): AugmentPatch {
  return {
    hflip: s.hflip,
    colorJitter: {
      brightness: s.brightness,
      contrast: s.contrast,
      saturation: s.saturation,
      hue: s.hue,
      p: s.jitterP,
    },
    randomResizedCrop: {
      scale: [s.scaleMin, s.scaleMax],
      ratio: [s.ratioMin, s.ratioMax],
    },
  };
}

/** Only what differs from `base`: a live change records just the sliders the user moved. */
export function changedPatch(s: AugmentSliders, base: AugmentSliders): AugmentPatch {
  const d = (k: keyof AugmentSliders) => Math.abs(s[k] - base[k]) > 1e-9;
  const patch: AugmentPatch = {};
  if (d('hflip')) patch.hflip = s.hflip;
  const cj: NonNullable<AugmentPatch['colorJitter']> = {};
  if (d('brightness')) cj.brightness = s.brightness;
  if (d('contrast')) cj.contrast = s.contrast;
  if (d('saturation')) cj.saturation = s.saturation;
  if (d('hue')) cj.hue = s.hue;
  if (d('jitterP')) cj.p = s.jitterP;
  if (Object.keys(cj).length) patch.colorJitter = cj;
  const rrc: NonNullable<AugmentPatch['randomResizedCrop']> = {};
  if (d('scaleMin') || d('scaleMax')) rrc.scale = [s.scaleMin, s.scaleMax];
  if (d('ratioMin') || d('ratioMax')) rrc.ratio = [s.ratioMin, s.ratioMax];
  if (Object.keys(rrc).length) patch.randomResizedCrop = rrc;
  return patch;
}

const r2 = (v: number) => Math.round(v * 100) / 100;

/** The drawn parameters of one preview sample, for its tooltip. */
export function describeDraw(p: DrawnParams): string {
  const lines = [
    `crop ${Math.round(p.crop.width)}×${Math.round(p.crop.height)} at (${Math.round(p.crop.x)}, ${Math.round(p.crop.y)})`,
    `flip ${p.flip ? 'yes' : 'no'}`,
  ];
  if (!p.jitter || !p.jitter.applied) lines.push('colour jitter: not applied');
  else
    lines.push(
      `jitter: brightness ×${r2(p.jitter.brightness)}, contrast ×${r2(p.jitter.contrast)}, saturation ×${r2(p.jitter.saturation)}, hue ${r2(p.jitter.hue)}`,
      `order: ${p.jitter.order.join(' → ')}`,
    );
  return lines.join('\n');
}

// `workstation model summary --arch resnet50 [--classes N] [--width W] [--size S] [--json]`:
// the architecture as data (layer list with output shapes and parameter counts); allocates no weights.
import { bool, num, str } from '../../common/args';
import type { CommandSpec } from '../command';
import { ModelSchema, zodIssueToError } from '../../../src-shared/config/run-config';
import { WorkstationError } from '../../../src-shared/errors';
import { describeModel, type ModelSpec } from '../../ml/models/index';

interface LayerRow {
  name: string;
  type: 'conv' | 'bn' | 'maxpool' | 'avgpool' | 'fc';
  /** NHWC without the batch dimension */
  outputShape: number[];
  params: number;
}

function convOut(size: number, k: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / stride) + 1;
}

export function layerTable(spec: ModelSpec, size: number): LayerRow[] {
  const rows: LayerRow[] = [];
  const conv = (c: { name: string; k: number; inC: number; outC: number; stride: number; pad: number }, s: number): number => {
    const o = convOut(s, c.k, c.stride, c.pad);
    rows.push({ name: c.name, type: 'conv', outputShape: [o, o, c.outC], params: c.k * c.k * c.inC * c.outC });
    return o;
  };
  const bn = (b: { name: string; c: number }, s: number) => rows.push({ name: b.name, type: 'bn', outputShape: [s, s, b.c], params: 2 * b.c });
  let s = conv(spec.stem.conv, size);
  bn(spec.stem.bn, s);
  s = convOut(s, 3, 2, 1);
  rows.push({ name: 'maxpool', type: 'maxpool', outputShape: [s, s, spec.stem.conv.outC], params: 0 });
  for (const blk of spec.blocks) {
    const s1 = conv(blk.conv1, s);
    bn(blk.bn1, s1);
    const s2 = conv(blk.conv2, s1);
    bn(blk.bn2, s2);
    const s3 = conv(blk.conv3, s2);
    bn(blk.bn3, s3);
    if (blk.down) bn(blk.down.bn, conv(blk.down.conv, s));
    s = s3;
  }
  rows.push({ name: 'avgpool', type: 'avgpool', outputShape: [spec.fc.inC], params: 0 });
  rows.push({ name: 'fc', type: 'fc', outputShape: [spec.fc.outC], params: spec.fc.inC * spec.fc.outC + spec.fc.outC });
  return rows;
}

const command: CommandSpec = {
  name: 'model summary',
  summary: 'Architecture and parameter counts of a model (no weights allocated)',
  flags: {
    arch: { type: 'string', description: 'architecture', default: 'resnet50' },
    classes: { type: 'number', description: 'number of classes', default: 1000 },
    width: { type: 'number', description: 'channel width multiplier (1 = torchvision ResNet-50)', default: 1 },
    size: { type: 'number', description: 'input image size for the output shapes', default: 224 },
    json: { type: 'boolean', description: 'print JSON' },
  },
  async run(args, io) {
    const parsed = ModelSchema.safeParse({ arch: str(args, 'arch'), numClasses: num(args, 'classes'), widthMultiplier: num(args, 'width') });
    if (!parsed.success) throw zodIssueToError(parsed.error, 'INVALID_ARGUMENT');
    const size = num(args, 'size') ?? 224;
    if (!Number.isInteger(size) || size < 16) throw new WorkstationError('INVALID_ARGUMENT', `--size must be an integer >= 16, got ${size}`, { field: 'size' });
    const d = describeModel(parsed.data);
    const layers = layerTable(d, size);
    const result = {
      arch: d.arch,
      numClasses: d.numClasses,
      widthMultiplier: d.widthMultiplier,
      inputShape: [size, size, 3],
      trainableParams: d.trainableParams,
      nonTrainableParams: d.nonTrainableParams,
      totalParams: d.trainableParams + d.nonTrainableParams,
      convLayers: layers.filter((l) => l.type === 'conv').length,
      bnLayers: layers.filter((l) => l.type === 'bn').length,
      variableOrder: 'forward order; per conv: kernel [kh,kw,in,out]; per BN: gamma, beta, running_mean, running_var; FC: kernel [in,out], bias',
      layers,
    };
    if (bool(args, 'json')) {
      io.stdout(JSON.stringify(result, null, 2) + '\n');
      return 0;
    }
    const lines = [`${d.arch}  classes ${d.numClasses}  width ×${d.widthMultiplier}  input ${size}×${size}×3`, ''];
    for (const l of layers) lines.push(`  ${l.name.padEnd(26)} ${l.type.padEnd(8)} ${l.outputShape.join('×').padEnd(14)} ${l.params.toLocaleString('en-US')}`);
    lines.push(
      '',
      `trainable params:     ${d.trainableParams.toLocaleString('en-US')}`,
      `non-trainable params: ${d.nonTrainableParams.toLocaleString('en-US')} (BN running statistics)`,
    );
    io.stdout(lines.join('\n') + '\n');
    return 0;
  },
};
export default command;

// The safetensors reader/writer against the format's description: 8-byte little-endian header
// length, a JSON header starting with '{' (space padding allowed) of {name: {dtype, shape,
// data_offsets}} plus an optional __metadata__ of strings, then the byte buffer that the offsets
// (relative to it, end exclusive) must cover exactly. Files built by hand byte by byte are read;
// what we write has that layout; every violation is refused with a message naming it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, readSafetensorsFile, writeSafetensorsFile, type SafeTensor } from '../../../src-main/ml/interop/safetensors';
import { tempDir } from '../../helpers/samples';

/** A file assembled by hand: header JSON text (padded as given) + raw bytes. */
function handMade(headerText: string, data: Buffer, lengthOverride?: bigint): Buffer {
  const header = Buffer.from(headerText, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(lengthOverride ?? BigInt(header.length));
  return Buffer.concat([len, header, data]);
}

function f32(...v: number[]): Buffer {
  return Buffer.from(new Float32Array(v).buffer);
}

const join = (parts: Buffer[]) => Buffer.concat(parts);

describe('safetensors reader', () => {
  it('reads a file laid out by hand as the format describes (offsets relative to the buffer, header padded with spaces)', () => {
    const header =
      '{"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"format":"pt"}}   ';
    const data = Buffer.concat([f32(1.5, -2), Buffer.from(new BigInt64Array([42n]).buffer)]);
    const st = decodeSafetensors(handMade(header, data));
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(st.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['a', 'F32', [2]],
      ['b', 'I64', []],
    ]);
    expect(Array.from(st.tensors[0].data as Float32Array)).toEqual([1.5, -2]);
    expect((st.tensors[1].data as BigInt64Array)[0]).toBe(42n);
  });

  it('accepts empty tensors (a zero dimension takes no bytes) and a file with no tensors', () => {
    const st = decodeSafetensors(handMade('{"e":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]}}', Buffer.alloc(0)));
    expect(st.tensors[0].data.length).toBe(0);
    expect(decodeSafetensors(handMade('{}', Buffer.alloc(0))).tensors).toEqual([]);
  });

  const cases: [string, Buffer, RegExp][] = [
    ['shorter than the length field', Buffer.alloc(5), /shorter than the 8-byte header length/],
    ['header length past the end', handMade('{}', Buffer.alloc(0), 100n), /runs past the end of the file/],
    ['header length over the 100 MB limit', handMade('{}', Buffer.alloc(0), 1n << 40n), /over the .* limit/],
    ['header not starting with {', handMade(' {}', Buffer.alloc(0)), /does not start with '\{'/],
    ['header not JSON', handMade('{"a":', Buffer.alloc(0)), /not valid JSON/],
    [
      'duplicate names',
      handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', Buffer.alloc(2)),
      /"a" appears twice/,
    ],
    ['unknown dtype', handMade('{"a":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}', Buffer.alloc(4)), /unknown dtype "F31"/],
    ['negative dimension', handMade('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', Buffer.alloc(4)), /bad shape/],
    [
      'byte range not matching the shape',
      handMade('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', Buffer.alloc(4)),
      /needs 8 bytes, its data_offsets span 4/,
    ],
    ['truncated data', handMade('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', Buffer.alloc(6)), /ends at byte 8 of a 6-byte buffer/],
    [
      'a hole in the buffer',
      handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}', Buffer.alloc(3)),
      /bytes 1\.\.2 of the buffer belong to no tensor/,
    ],
    [
      'overlapping tensors',
      handMade('{"a":{"dtype":"U16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"U16","shape":[1],"data_offsets":[1,3]}}', Buffer.alloc(3)),
      /"b" overlaps/,
    ],
    [
      'trailing bytes nobody owns',
      handMade('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', Buffer.alloc(4)),
      /bytes 1\.\.4 of the buffer belong to no tensor/,
    ],
    ['metadata that is not a string', handMade('{"__metadata__":{"epoch":3}}', Buffer.alloc(0)), /__metadata__\.epoch is not a string/],
  ];
  for (const [what, buf, message] of cases) {
    it(`refuses ${what}, naming the problem and the file`, () => {
      expect(() => decodeSafetensors(buf, '/x/model.safetensors')).toThrow(message);
      expect(() => decodeSafetensors(buf, '/x/model.safetensors')).toThrow(/\/x\/model\.safetensors is not a valid safetensors file/);
    });
  }
});

describe('safetensors writer', () => {
  const tensors: SafeTensor[] = [
    { name: 'conv1.weight', dtype: 'F32', shape: [2, 1, 1, 2], data: new Float32Array([1, -0, Number.MIN_VALUE, 3.4e38]) },
    { name: 'bn1.num_batches_tracked', dtype: 'I64', shape: [], data: BigInt64Array.of(123456789012n) },
    { name: 'd', dtype: 'F64', shape: [1], data: Float64Array.of(Math.PI) },
    { name: 'h', dtype: 'BF16', shape: [3], data: Uint16Array.of(0x3f80, 0xbf80, 0x7fc0) },
    { name: 'u', dtype: 'U8', shape: [3], data: Uint8Array.of(0, 128, 255) },
    { name: 'empty', dtype: 'F32', shape: [0], data: new Float32Array(0) },
  ];

  it('writes the described layout: LE header length, JSON object, 8-byte aligned buffer, contiguous offsets in order', () => {
    const buf = join(encodeSafetensors(tensors, { arch: 'resnet50' }));
    const n = Number(buf.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const text = buf.subarray(8, 8 + n).toString('utf8');
    expect(text[0]).toBe('{');
    const header = JSON.parse(text) as Record<string, { data_offsets: [number, number] }>;
    expect(header.__metadata__).toEqual({ arch: 'resnet50' });
    let at = 0;
    for (const t of tensors) {
      expect(header[t.name].data_offsets).toEqual([at, at + t.data.byteLength]);
      at += t.data.byteLength;
    }
    expect(buf.length).toBe(8 + n + at);
    // raw little-endian values, right where the offsets say
    expect(buf.readFloatLE(8 + n + 12)).toBe(Math.fround(3.4e38));
    expect(buf.readBigInt64LE(8 + n + 16)).toBe(123456789012n);
  });

  it('round-trips every dtype bit for bit through a file', () => {
    const file = path.join(tempDir('st-'), 'x.safetensors');
    const bytes = writeSafetensorsFile(file, tensors, { k: 'v' });
    expect(fs.statSync(file).size).toBe(bytes);
    const back = readSafetensorsFile(file);
    expect(back.metadata).toEqual({ k: 'v' });
    expect(back.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(tensors.map((t) => [t.name, t.dtype, t.shape]));
    back.tensors.forEach((t, i) =>
      expect(Buffer.from(t.data.buffer)).toEqual(Buffer.from(tensors[i].data.buffer, tensors[i].data.byteOffset, tensors[i].data.byteLength)),
    );
    expect(Object.is((back.tensors[0].data as Float32Array)[1], -0)).toBe(true);
  });

  it('refuses a tensor whose data does not fit its shape, duplicate names and a missing file', () => {
    expect(() => encodeSafetensors([{ name: 'a', dtype: 'F32', shape: [3], data: new Float32Array(2) }])).toThrow(/"a" holds 8 bytes, F32 \[3\] needs 12/);
    expect(() => encodeSafetensors([tensors[4], tensors[4]])).toThrow(/duplicate or reserved tensor name "u"/);
    expect(() => readSafetensorsFile('/nonexistent/m.safetensors')).toThrow(/cannot read \/nonexistent\/m\.safetensors: no such file/);
  });
});

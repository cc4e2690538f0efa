// The safetensors file format (Hugging Face), read and written without a dependency:
//
//   bytes 0..7     N: header length, unsigned 64-bit little-endian
//   bytes 8..8+N   header: UTF-8 JSON object, starting with '{', right-padded with spaces (0x20);
//                  { name: { dtype, shape, data_offsets: [begin, end] }, …, "__metadata__"?: { str: str } }
//   the rest       the byte buffer: raw little-endian, row-major tensors; data_offsets are relative
//                  to the buffer's start (end exclusive)
//
// The reader treats the file as hostile and checks what the format's description requires: the
// header length against the file (and a 100 MB cap, as the reference implementation), valid JSON
// starting with '{', no duplicate names, every dtype known, every shape a list of non-negative
// integers, each byte range = element count × element size, ranges inside the buffer, and the
// ranges covering the buffer exactly (no holes, no overlaps: no polyglot files). __metadata__
// values must be strings. The writer pads the header so the buffer starts 8-byte aligned and lays
// tensors out in the order given.
import fs from 'node:fs';
import { WorkstationError } from '../../../src-shared/errors';
import { writeFileAtomic } from '../checkpoint-file';

export const SAFETENSORS_DTYPES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;
export type SafetensorsDtype = keyof typeof SAFETENSORS_DTYPES;

/** The largest header accepted (the reference implementation's limit). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/** Typed views by dtype (F16/BF16 and BOOL come back as their raw bits). */
export type TensorData =
  Float64Array | Float32Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

export interface SafeTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsContents {
  /** in buffer order */
  tensors: SafeTensor[];
  metadata: Record<string, string>;
}

function bad(file: string, why: string): WorkstationError {
  return new WorkstationError('CHECKPOINT_CORRUPT', `${file} is not a valid safetensors file: ${why}`, { path: file });
}

const elementCount = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Names of the header object's own keys in order, so duplicates (which JSON.parse drops silently) can be refused. */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(json.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

function view(dtype: SafetensorsDtype, bytes: Uint8Array): TensorData {
  // copy into a fresh (aligned) buffer: typed arrays need offsets that are multiples of their element size
  const buf = new ArrayBuffer(bytes.length);
  new Uint8Array(buf).set(bytes);
  switch (dtype) {
    case 'F64':
      return new Float64Array(buf);
    case 'F32':
      return new Float32Array(buf);
    case 'I64':
      return new BigInt64Array(buf);
    case 'U64':
      return new BigUint64Array(buf);
    case 'I32':
      return new Int32Array(buf);
    case 'U32':
      return new Uint32Array(buf);
    case 'I16':
      return new Int16Array(buf);
    case 'F16':
    case 'BF16':
    case 'U16':
      return new Uint16Array(buf);
    case 'I8':
      return new Int8Array(buf);
    default:
      return new Uint8Array(buf);
  }
}

/** Parses and checks a whole safetensors file held in memory (`file` names it in errors). */
export function decodeSafetensors(buf: Uint8Array, file = 'safetensors'): SafetensorsContents {
  if (buf.length < 8) throw bad(file, `${buf.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) throw bad(file, `header length ${n64} is over the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(n64);
  if (8 + n > buf.length) throw bad(file, `header length ${n} runs past the end of the file (${buf.length} bytes)`);
  const text = Buffer.from(buf.buffer, buf.byteOffset + 8, n).toString('utf8');
  if (!text.startsWith('{')) throw bad(file, "the header does not start with '{'");
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw bad(file, `the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad(file, 'the header is not a JSON object');
  const keys = topLevelKeys(text);
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) throw bad(file, `"${k}" appears twice in the header`);
    seen.add(k);
  }
  const dataStart = 8 + n;
  const dataLength = buf.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: { name: string; dtype: SafetensorsDtype; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(file, '__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw)) if (typeof v !== 'string') throw bad(file, `__metadata__.${k} is not a string`);
      metadata = raw as Record<string, string>;
      continue;
    }
    const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== 'object' || t === null) throw bad(file, `tensor "${name}" is not an object`);
    if (typeof t.dtype !== 'string' || !(t.dtype in SAFETENSORS_DTYPES)) throw bad(file, `tensor "${name}" has an unknown dtype ${JSON.stringify(t.dtype)}`);
    const dtype = t.dtype as SafetensorsDtype;
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw bad(file, `tensor "${name}" has a bad shape ${JSON.stringify(t.shape)}`);
    const shape = t.shape as number[];
    const off = t.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isSafeInteger(o) && o >= 0) || off[0] > off[1])
      throw bad(file, `tensor "${name}" has bad data_offsets ${JSON.stringify(off)}`);
    const [begin, end] = off as [number, number];
    const want = elementCount(shape) * SAFETENSORS_DTYPES[dtype];
    if (end - begin !== want) throw bad(file, `tensor "${name}" (${dtype} [${shape}]) needs ${want} bytes, its data_offsets span ${end - begin}`);
    if (end > dataLength) throw bad(file, `tensor "${name}" ends at byte ${end} of a ${dataLength}-byte buffer (truncated file?)`);
    entries.push({ name, dtype, shape, begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of entries) {
    if (e.begin < at) throw bad(file, `tensor "${e.name}" overlaps the tensor before it (bytes ${e.begin}..${e.end})`);
    if (e.begin > at) throw bad(file, `bytes ${at}..${e.begin} of the buffer belong to no tensor`);
    at = e.end;
  }
  if (at !== dataLength) throw bad(file, `bytes ${at}..${dataLength} of the buffer belong to no tensor`);
  const tensors = entries.map((e) => ({
    name: e.name,
    dtype: e.dtype,
    shape: e.shape,
    data: view(e.dtype, buf.subarray(dataStart + e.begin, dataStart + e.end)),
  }));
  return { tensors, metadata };
}

export function readSafetensorsFile(file: string): SafetensorsContents {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WorkstationError('NOT_FOUND', `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { path: file });
  }
  return decodeSafetensors(buf, file);
}

const BYTES_PER_ELEMENT: Record<string, number> = { ...SAFETENSORS_DTYPES };

/** Encodes tensors (in the order given) and string metadata as the parts of a safetensors file. */
export function encodeSafetensors(tensors: readonly SafeTensor[], metadata: Record<string, string> = {}): Buffer[] {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const blobs: Buffer[] = [];
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header)
      throw new WorkstationError('INVALID_ARGUMENT', `safetensors: duplicate or reserved tensor name "${t.name}"`);
    const size = BYTES_PER_ELEMENT[t.dtype];
    if (size === undefined) throw new WorkstationError('INVALID_ARGUMENT', `safetensors: unknown dtype ${t.dtype} for "${t.name}"`);
    const bytes = elementCount(t.shape) * size;
    if (t.data.byteLength !== bytes)
      throw new WorkstationError('INVALID_ARGUMENT', `safetensors: "${t.name}" holds ${t.data.byteLength} bytes, ${t.dtype} [${t.shape}] needs ${bytes}`);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    // little-endian on every platform we run on (x86-64, arm64): the typed array's bytes as they are
    blobs.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    offset += bytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - ((8 + json.length) % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length), 0);
  return [len, json, ...blobs];
}

/** Writes a safetensors file atomically (temp file, fsync, rename); returns its size in bytes. */
export function writeSafetensorsFile(file: string, tensors: readonly SafeTensor[], metadata: Record<string, string> = {}): number {
  const parts = encodeSafetensors(tensors, metadata);
  writeFileAtomic(file, parts);
  return parts.reduce((a, p) => a + p.length, 0);
}

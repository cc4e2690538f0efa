// The checkpoint file format and its atomic writer. One file per epoch:
//
//   bytes 0..7    magic "WSCKPT1\n"
//   bytes 8..11   header length H (uint32 LE)
//   12..12+H      header JSON (UTF-8), padded with spaces so the blobs start 8-byte aligned
//   blobs         float32 little-endian arrays, in header.tensors order (model variables in the
//                 model's documented order incl. BN running stats, then optimizer buffers)
//   last 32 bytes SHA-256 of everything before it (truncation / bit rot → CHECKPOINT_CORRUPT)
//
// Writes are atomic: temp file in the same directory, fsync, rename, fsync the directory, so a
// crash at any point leaves the previous checkpoint (and any other file) intact.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { WorkstationError } from '../../src-shared/errors';

export const CHECKPOINT_MAGIC = 'WSCKPT1\n';
export const CHECKPOINT_FORMAT = 1;
const TRAILER = 32;

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface TensorEntry {
  name: string;
  group: 'model' | 'optimizer';
  shape: number[];
  /** byte offset from the start of the blob section */
  offset: number;
  length: number;
}

export interface CheckpointFile<H> {
  header: H & { format: number; tensors: TensorEntry[] };
  model: NamedArray[];
  optimizer: NamedArray[];
  bytes: number;
  /** SHA-256 (hex) of the file body, as stored in its trailer */
  sha256: string;
}

function le(a: Float32Array): Buffer {
  // float32 LE on every platform we support (x86-64, arm64); Buffer view, no copy
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Serialises header + arrays to buffers (no file system). */
export function encodeCheckpoint(header: object, model: NamedArray[], optimizer: NamedArray[]): { parts: Buffer[]; sha256: string; bytes: number } {
  const tensors: TensorEntry[] = [];
  let offset = 0;
  for (const [group, list] of [
    ['model', model],
    ['optimizer', optimizer],
  ] as const) {
    for (const a of list) {
      tensors.push({ name: a.name, group, shape: a.shape, offset, length: a.data.length });
      offset += a.data.byteLength;
    }
  }
  let json = Buffer.from(JSON.stringify({ ...header, format: CHECKPOINT_FORMAT, tensors }), 'utf8');
  const pad = (8 - ((12 + json.length) % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  const parts = [Buffer.from(CHECKPOINT_MAGIC, 'latin1'), len, json, ...model.map((a) => le(a.data)), ...optimizer.map((a) => le(a.data))];
  const hash = crypto.createHash('sha256');
  for (const p of parts) hash.update(p);
  const digest = hash.digest();
  parts.push(digest);
  return { parts, sha256: digest.toString('hex'), bytes: parts.reduce((n, p) => n + p.length, 0) };
}

export interface AtomicWriteHooks {
  /** test hook: runs after the temp file is fsynced, before the rename (throw to simulate a crash) */
  beforeRename?: (tempPath: string) => void;
  /** fault-injection hook: runs after each part is written to the temp file (throw to simulate ENOSPC / EIO) */
  afterPart?: (index: number, tempPath: string) => void;
}

/** Writes `parts` to `file` atomically (temp in the same dir, fsync, rename, fsync dir). */
export function writeFileAtomic(file: string, parts: Buffer[], hooks: AtomicWriteHooks = {}): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  let fd: number | null = fs.openSync(tmp, 'w');
  try {
    for (const [i, p] of parts.entries()) {
      let off = 0;
      while (off < p.length) off += fs.writeSync(fd, p, off, p.length - off);
      hooks.afterPart?.(i, tmp);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
  } catch (e) {
    // a failed write (disk full, I/O error) leaves no temp file behind and the target untouched
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  hooks.beforeRename?.(tmp);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // directories cannot be fsynced on Windows; the rename is still atomic there
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Removes temp files a crashed writer left in `dir` (never touches finished checkpoints). */
export function removeStaleTemps(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const removed: string[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (/^\..+\.tmp-\d+-[0-9a-f]+$/.test(name)) {
      fs.rmSync(path.join(dir, name), { force: true });
      removed.push(path.join(dir, name));
    }
  }
  return removed;
}

function corrupt(file: string, why: string): WorkstationError {
  return new WorkstationError('CHECKPOINT_CORRUPT', `checkpoint ${file} is corrupt: ${why}`, { path: file });
}

/** Reads and verifies the header only when `withData` is false (still checks the whole-file hash). */
export function readCheckpointFile<H>(file: string, withData = true): CheckpointFile<H> {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw new WorkstationError('NOT_FOUND', `checkpoint not found: ${file}`, { path: file });
    throw e;
  }
  if (buf.length < 12 + TRAILER || buf.subarray(0, 8).toString('latin1') !== CHECKPOINT_MAGIC)
    throw corrupt(file, 'not a workstation checkpoint (bad magic or too short)');
  const body = buf.subarray(0, buf.length - TRAILER);
  const stored = buf.subarray(buf.length - TRAILER).toString('hex');
  const actual = crypto.createHash('sha256').update(body).digest('hex');
  if (stored !== actual) throw corrupt(file, 'SHA-256 mismatch (truncated or modified)');
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > body.length) throw corrupt(file, 'header length past end of file');
  let header: CheckpointFile<H>['header'];
  try {
    header = JSON.parse(buf.subarray(12, 12 + hlen).toString('utf8'));
  } catch {
    throw corrupt(file, 'header is not valid JSON');
  }
  if (header.format !== CHECKPOINT_FORMAT) throw corrupt(file, `unsupported format version ${header.format}`);
  const model: NamedArray[] = [];
  const optimizer: NamedArray[] = [];
  if (withData) {
    const base = 12 + hlen;
    for (const t of header.tensors) {
      const start = base + t.offset;
      if (start + t.length * 4 > body.length) throw corrupt(file, `tensor ${t.name} past end of file`);
      // copy into an aligned buffer (Float32Array needs 4-byte alignment of the underlying offset)
      const data = new Float32Array(t.length);
      Buffer.from(data.buffer).set(buf.subarray(start, start + t.length * 4));
      (t.group === 'model' ? model : optimizer).push({ name: t.name, shape: t.shape, data });
    }
  }
  return { header, model, optimizer, bytes: buf.length, sha256: stored };
}

/** SHA-256 over float32 LE bytes of the arrays, in the given order (the documented weightsSha256). */
export function weightsSha256(arrays: Float32Array[]): string {
  const h = crypto.createHash('sha256');
  for (const a of arrays) h.update(le(a));
  return h.digest('hex');
}

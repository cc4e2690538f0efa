// Typed errors shared by every process. They cross process boundaries as plain
// `{ name, code, message, field?, path? }` objects (see toWireError / fromWireError).

export const ERROR_CODES = [
  'INVALID_CONFIG', // a run config field is missing, unknown or out of range
  'INVALID_ARGUMENT', // a CLI flag or API payload field is invalid
  'INVALID_COMMAND', // unknown command name
  'NOT_FOUND', // run, checkpoint, file or dataset not found
  'DATASET_ERROR', // dataset layout problem (missing split, empty class folder, unknown label)
  'DECODE_ERROR', // an image could not be decoded
  'CHECKPOINT_MISMATCH', // architecture / class count of a checkpoint does not match the model
  'CHECKPOINT_CORRUPT', // a checkpoint file is truncated or its checksum does not match
  'CHECKPOINT_WRITE_FAILED', // writing a checkpoint failed (disk full, I/O error); the previous one is kept
  'OWNED', // the run is being trained by another live process
  'BACKEND_UNAVAILABLE', // the requested tfjs backend cannot be loaded
  'SELFTEST_FAILED', // the backend failed its self-test (doctor --selftest); the run did not train (train.allowFailedSelftest overrides)
  'SCHEDULE_EXHAUSTED', // stepped an LR schedule past its total steps
  'DIVERGED', // the training loss became NaN/Infinity
  'BUSY', // a run is already training in this service
  'INVALID_STATE', // command not valid in the current run status (e.g. pause a stopped run)
  'DB_VERSION', // database schema is newer than this build understands
  'UNAUTHORIZED', // missing / wrong token, wrong origin, path outside dataset roots
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface WireError {
  name: string;
  code: ErrorCode;
  message: string;
  /** dotted path of the offending config/payload field, when there is one */
  field?: string;
  /** file system path involved, when there is one */
  path?: string;
}

export class WorkstationError extends Error {
  override name = 'WorkstationError';
  readonly code: ErrorCode;
  readonly field?: string;
  readonly path?: string;
  constructor(code: ErrorCode, message: string, extra: { field?: string; path?: string; cause?: unknown } = {}) {
    super(message, extra.cause !== undefined ? { cause: extra.cause } : undefined);
    this.code = code;
    if (extra.field !== undefined) this.field = extra.field;
    if (extra.path !== undefined) this.path = extra.path;
  }
}

export function isWorkstationError(e: unknown): e is WorkstationError {
  return (
    e instanceof Error &&
    typeof (e as { code?: unknown }).code === 'string' &&
    (ERROR_CODES as readonly string[]).includes((e as unknown as { code: string }).code)
  );
}

export function toWireError(e: unknown): WireError {
  if (isWorkstationError(e)) {
    const w: WireError = { name: e.name, code: e.code, message: e.message };
    if (e.field !== undefined) w.field = e.field;
    if (e.path !== undefined) w.path = e.path;
    return w;
  }
  if (e instanceof Error) return { name: e.name, code: 'INTERNAL', message: e.message };
  return { name: 'Error', code: 'INTERNAL', message: String(e) };
}

export function fromWireError(w: WireError): WorkstationError {
  const err = new WorkstationError(w.code, w.message, { field: w.field, path: w.path });
  err.name = w.name;
  return err;
}

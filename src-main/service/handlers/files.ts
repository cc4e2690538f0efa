// dataset.file: one image inside a dataset root, as base64 — the `/api/file` endpoint's rules
// (security.ts allowedImagePath: the dataset-root allow-list, image types only) for the Electron
// window, which has no HTTP server to load images from (the mistakes gallery uses it there).
import fs from 'node:fs';
import { WorkstationError } from '../../../src-shared/errors';
import { allowedImagePath, imageContentType } from '../security';
import type { HandlerContext, Handlers } from './types';

/** the largest image sent (base64 in one message) */
export const MAX_FILE_BYTES = 32 * 1024 * 1024;

export function createFileHandlers(ctx: HandlerContext): Handlers {
  return {
    'dataset.file': ({ path: file }) => {
      const ok = allowedImagePath(file, ctx.datasetRoots.list());
      if (!ok) throw new WorkstationError('UNAUTHORIZED', `${file} is not an image inside a dataset root`, { field: 'path', path: file });
      const size = fs.statSync(ok).size;
      if (size > MAX_FILE_BYTES)
        throw new WorkstationError('INVALID_ARGUMENT', `${file} is ${size} bytes; images over ${MAX_FILE_BYTES} bytes are not sent`, {
          field: 'path',
          path: file,
        });
      return { contentType: imageContentType(ok) ?? 'application/octet-stream', base64: fs.readFileSync(ok).toString('base64') };
    },
  };
}

// Entry of a decode worker thread (bundled as out/node/decode-worker.cjs): runs DecodeTasks sent
// by the training pool, or PreviewTasks sent by the preview's own pool (data/preview.ts), and
// answers { id, ok, result | error } (a typed error crosses as its WireError, so it stays typed).
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { isWorkstationError, toWireError } from '../../src-shared/errors';
import { runDecodeTask, type DecodeTask } from './decode-task';
import { renderPreview, type PreviewTask } from './preview-render';

// One libvips thread per operation (parallelism comes from the workers) and no operation cache:
// every image is decoded once, caching only costs memory.
sharp.concurrency(1);
sharp.cache(false);

parentPort?.on('message', (msg: { id: number; task: DecodeTask | PreviewTask }) => {
  const work: Promise<unknown> = msg.task.kind === 'preview' ? renderPreview(msg.task) : runDecodeTask(msg.task);
  work.then(
    (result) => parentPort!.postMessage({ id: msg.id, ok: true, result }),
    (e: unknown) =>
      parentPort!.postMessage({ id: msg.id, ok: false, error: isWorkstationError(e) ? toWireError(e) : e instanceof Error ? e.message : String(e) }),
  );
});

// Entry of a decode worker thread (bundled as out/node/decode-worker.cjs): runs DecodeTasks sent
// by the worker pool and answers { id, ok, result | error }.
import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import { runDecodeTask, type DecodeTask } from './decode-task';

// One libvips thread per operation (parallelism comes from the workers) and no operation cache:
// every image is decoded once, caching only costs memory.
sharp.concurrency(1);
sharp.cache(false);

parentPort?.on('message', (msg: { id: number; task: DecodeTask }) => {
  runDecodeTask(msg.task).then(
    (result) => parentPort!.postMessage({ id: msg.id, ok: true, result }),
    (e: unknown) => parentPort!.postMessage({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});

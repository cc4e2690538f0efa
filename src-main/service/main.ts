// The training service process (bundled to out/node/service.cjs):
//   node out/node/service.cjs --db <path> --data-dir <dir> [--ipc] [--port 0] [--host 127.0.0.1] [--deterministic]
// Serves the API over Node IPC when forked with a channel (Electron main), and always over
// WebSocket on loopback with a random token, recorded in <dataDir>/service.json so a reopened
// app can reattach to a service that kept training in the background.
// First stdout line: `workstation service: http://127.0.0.1:PORT/?token=TOKEN`.
// SIGTERM/SIGINT: the active run stops at the next step boundary with a mid-epoch checkpoint and
// becomes 'stopped' (`workstation resume` continues it at the next step), the database is
// closed cleanly, service.json removed, exit code 0. Runs whose process died are resumed by
// themselves at start (--auto-resume, default on; --no-auto-resume turns it off).
import '../ml/quiet-tfjs'; // first: tfjs's console notes off before any module runs tfjs
import path from 'node:path';
import { parseArgs, bool, num, str } from '../common/args';
import { toWireError } from '../../src-shared/errors';
import { appPaths, defaultDataDir, packageRoot } from '../common/paths';
import { parseFaults } from './fault-injection';
import { createService } from './service';
import { removeServiceFile, writeServiceFile } from '../common/service-file';
import { createToken } from './security';
import { startHttpServer } from './transports/http-server';
import { serveIpc } from './transports/ipc-server';
import { applyGpuEnv } from '../common/gpu-env';

const FLAGS = {
  db: { type: 'string', description: 'database file (default <data-dir>/workstation.db)' },
  'data-dir': { type: 'string', description: 'data directory (default: the app data dir)' },
  ipc: { type: 'boolean', description: 'serve Node IPC (automatic when forked with a channel)' },
  port: { type: 'number', description: 'WebSocket/HTTP port on the loopback address (0 = random)', default: 0 },
  host: { type: 'string', description: 'address to bind', default: '127.0.0.1' },
  'auto-resume': { type: 'boolean', description: 'resume runs that were training when their process died (default: the data dir settings, on)' },
  'watch-interruptions': { type: 'boolean', description: 'poll the EC2 metadata service; on a spot interruption checkpoint and stop the run' },
  'imds-url': { type: 'string', description: 'EC2 instance metadata base URL (default http://169.254.169.254)' },
  deterministic: {
    type: 'boolean',
    description: 'deterministic GPU kernels (TF_DETERMINISTIC_OPS, TF_CUDNN_DETERMINISTIC): runs with train.deterministic need it',
  },
} as const;

export async function runServiceProcess(argv: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const args = parseArgs(argv, { ...FLAGS });
  const dataDir = path.resolve(str(args, 'data-dir') ?? defaultDataDir(env));
  // First, before anything loads libtensorflow (tfjs-node-gpu is required on the first run): the
  // CUDA JIT cache under the data dir and, with --deterministic, TF's determinism switches.
  applyGpuEnv(dataDir, { deterministic: bool(args, 'deterministic') }, process.env);
  const dbPath = appPaths(dataDir, str(args, 'db')).dbPath;
  const log = (level: string, message: string) => process.stderr.write(`[service ${level}] ${message}\n`);
  const service = await createService({
    dbPath,
    dataDir,
    onLog: log,
    // a flag given wins over <dataDir>/settings.json; absent, the settings decide
    autoResume: args.flags['auto-resume'] as boolean | undefined,
    watchInterruptions:
      args.flags['watch-interruptions'] === undefined ? undefined : bool(args, 'watch-interruptions') ? { baseUrl: str(args, 'imds-url') } : null,
    faults: parseFaults(env), // tests only (WORKSTATION_FAULT_CHECKPOINT_WRITE), read once here
  });
  const stopIpc = process.send || bool(args, 'ipc') ? serveIpc(service) : () => {};
  const token = createToken();
  const server = await startHttpServer({
    service,
    host: str(args, 'host') ?? '127.0.0.1',
    port: num(args, 'port') ?? 0,
    token,
    rendererDir: path.join(packageRoot(), 'out', 'renderer'),
  });
  writeServiceFile(dataDir, { pid: process.pid, port: server.port, host: server.host, token, dbPath, startedAt: new Date().toISOString() });
  process.stdout.write(`workstation service: ${server.url}\n`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      log('warn', `${signal} again: exiting without waiting for the step boundary`);
      process.exit(130);
    }
    stopping = true;
    log('info', `${signal}: stopping the active run at the next step boundary`);
    void (async () => {
      let code = 0;
      try {
        await service.shutdown(`${signal} received`);
      } catch (e) {
        log('error', `shutdown: ${toWireError(e).message}`);
        code = 1;
      }
      stopIpc();
      await server.close().catch(() => {});
      removeServiceFile(dataDir);
      if (process.connected) process.disconnect();
      process.exit(code);
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // A bug in one request must not take training down with it.
  process.on('uncaughtException', (e) => log('error', `uncaught: ${e.stack ?? e.message}`));
  process.on('unhandledRejection', (e) => log('error', `unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));
}

runServiceProcess(process.argv.slice(2), process.env).catch((e: unknown) => {
  const w = toWireError(e);
  process.stderr.write(`workstation service: error [${w.code}]: ${w.message}\n`);
  process.exit(w.code === 'INTERNAL' ? 1 : 2);
});

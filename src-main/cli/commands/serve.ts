// `workstation serve [--port P] [--host 127.0.0.1] [--allow-remote] [--token T] [--deterministic] [--db] [--data-dir]`
// The headless app: the training service in this process, HTTP serving the built renderer and
// the API over WebSocket (/ws). Loopback only unless --allow-remote (with a warning); a random
// token guards everything (printed in the URL; the page then holds it in an HttpOnly cookie).
// First stdout line: `workstation serve: http://127.0.0.1:PORT/?token=TOKEN` (scripts parse it).
// Ctrl-C / SIGTERM: the active run stops at the next step boundary ('stopped', resumable).
import path from 'node:path';
import { WorkstationError } from '../../../src-shared/errors';
import { packageRoot } from '../../common/paths';
import { createToken, isLoopbackHost } from '../../service/security';
import { removeServiceFile, writeServiceFile } from '../../common/service-file';
import { startHttpServer } from '../../service/transports/http-server';
import { bool, num, str } from '../../common/args';
import type { CommandSpec } from '../command';
import { applyGpuEnv } from '../../common/gpu-env';
import { DB_FLAG } from '../db-flag';
import { DATA_DIR_FLAG, WATCH_FLAGS, openCliService, resolveDataDir } from '../service-session';

const command: CommandSpec = {
  name: 'serve',
  summary: 'Serve the app to a browser: HTTP (built renderer) + WebSocket API, token-protected, loopback by default',
  flags: {
    port: { type: 'number', description: 'port (0 = a free random port)', default: 0 },
    host: { type: 'string', description: 'address to bind', default: '127.0.0.1' },
    'allow-remote': { type: 'boolean', description: 'allow binding a non-loopback address (prints a warning)' },
    token: { type: 'string', description: 'use this token instead of a random one (at least 16 characters)' },
    'auto-resume': { type: 'boolean', description: 'resume runs that were training when their process died (default: the data dir settings, on)' },
    deterministic: {
      type: 'boolean',
      description: 'deterministic GPU kernels (TF_DETERMINISTIC_OPS, TF_CUDNN_DETERMINISTIC): runs with train.deterministic need it',
    },
    ...DB_FLAG,
    ...DATA_DIR_FLAG,
    ...WATCH_FLAGS,
  },
  async run(args, io) {
    const host = str(args, 'host') ?? '127.0.0.1';
    const port = num(args, 'port') ?? 0;
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new WorkstationError('INVALID_ARGUMENT', `--port must be an integer in 0..65535, got ${port}`, { field: 'port' });
    if (!isLoopbackHost(host) && !bool(args, 'allow-remote')) {
      throw new WorkstationError(
        'INVALID_ARGUMENT',
        `--host ${host} is not a loopback address: anyone who can reach it could control training. Pass --allow-remote to bind it anyway, or keep 127.0.0.1 and use an SSH tunnel (ssh -L ${port || 8080}:127.0.0.1:${port || 8080} host)`,
        { field: 'host' },
      );
    }
    const given = str(args, 'token');
    if (given !== undefined && given.length < 16) throw new WorkstationError('INVALID_ARGUMENT', '--token must be at least 16 characters', { field: 'token' });
    const token = given ?? createToken();
    const dataDir = resolveDataDir(args, io);
    // before libtensorflow loads (on the first run): CUDA JIT cache, determinism switches
    applyGpuEnv(dataDir, { deterministic: bool(args, 'deterministic') }, process.env);
    const service = await openCliService(args, io, { autoResume: (args.flags['auto-resume'] as boolean | undefined) ?? 'settings' });
    let server;
    try {
      server = await startHttpServer({
        service,
        host,
        port,
        token,
        allowRemote: bool(args, 'allow-remote'),
        rendererDir: path.join(packageRoot(), 'out', 'renderer'),
      });
    } catch (e) {
      await service.close();
      throw e;
    }
    writeServiceFile(dataDir, { pid: process.pid, port: server.port, host, token, dbPath: service.paths.dbPath, startedAt: new Date().toISOString() });
    const shownUrl = server.url.replace(/\/\/(0\.0\.0\.0|\[::\])/, '//127.0.0.1');
    io.stdout(`workstation serve: ${shownUrl}\n`);
    if (server.warning) io.stderr(server.warning + '\n');
    io.stderr(`serving ${service.paths.dbPath}; open the URL above (over SSH: ssh -L ${server.port}:127.0.0.1:${server.port} <host>). Ctrl-C stops.\n`);
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) return resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    io.stderr('stopping: the active run stops at the next step boundary\n');
    try {
      await service.shutdown('serve stopped');
    } finally {
      await server.close();
      removeServiceFile(dataDir);
    }
    return 0;
  },
};

export default command;

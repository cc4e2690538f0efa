// Node IPC transport (client side) for tests and scripts: forks the bundled service
// (out/node/service.cjs) and exposes the typed ServiceApi over its IPC channel. The envelope
// logic (validation, typed errors, events) is the shared RPC client; this file only moves messages.
import { fork, type ChildProcess } from 'node:child_process';
import type { ServiceApi } from '../../../src-shared/api/contract';
import { createRpcClient } from '../../../src-shared/api/rpc-client';
import { WorkstationError } from '../../../src-shared/errors';
import { nodeBundlePath } from '../../common/paths';

export interface IpcClient extends ServiceApi {
  readonly child: ChildProcess;
  /** resolves with the exit code / signal once the process is gone */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** everything the service printed (stdout + stderr), for diagnostics */
  output(): string;
  close(): void;
}

export function createIpcClient(child: ChildProcess): IpcClient {
  const rpc = createRpcClient({
    send(msg) {
      if (!child.connected) throw new WorkstationError('INTERNAL', `${msg.command}: service is not connected`);
      child.send(msg);
    },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      rpc.failAll(`service exited (code ${code}, signal ${signal}) before answering`);
      resolve({ code, signal });
    });
  });
  child.on('message', rpc.handleMessage);
  return {
    child,
    exited,
    output: () => out,
    call: rpc.call,
    on: rpc.on,
    close() {
      if (child.connected) child.disconnect();
    },
  };
}

/** Forks out/node/service.cjs with an IPC channel (what Electron main does). */
export function forkService(opts: { dbPath: string; dataDir: string; env?: NodeJS.ProcessEnv; extraArgs?: string[] }): IpcClient {
  const child = fork(nodeBundlePath('service'), ['--db', opts.dbPath, '--data-dir', opts.dataDir, '--ipc', ...(opts.extraArgs ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: opts.env ?? process.env,
  });
  return createIpcClient(child);
}

// The Node IPC client for a service child process (one spawned or forked with an 'ipc' stdio
// slot): Electron main's supervised child, and tests and scripts that fork the bundled service
// (out/node/service.cjs). This file only moves messages; the envelope logic is the shared link
// (service-link.ts).
import { fork, type ChildProcess } from 'node:child_process';
import { WorkstationError } from '../../src-shared/errors';
import { nodeBundlePath } from './paths';
import { createCloseNotifier, createServiceLink, type LinkOptions, type MessageTransport, type ServiceLink } from './service-link';

/** Messages over the child's IPC channel; it closes when the channel does or the child exits. */
export function createIpcTransport(child: ChildProcess): MessageTransport {
  const { add: onClose, fire } = createCloseNotifier();
  child.once('disconnect', () => fire('IPC channel closed'));
  child.once('exit', (code, signal) => fire(signal ? `killed by ${signal}` : `exit code ${code}`));
  return {
    send(msg) {
      if (!child.connected) throw new WorkstationError('INTERNAL', `${msg.command}: the service's IPC channel is closed`);
      child.send(msg);
    },
    onMessage: (cb) => void child.on('message', cb),
    onClose,
    close() {
      if (child.connected) child.disconnect();
      fire('closed by client');
    },
  };
}

export interface IpcClient extends ServiceLink {
  readonly child: ChildProcess;
  /** resolves with the exit code / signal once the process is gone */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** everything the service printed (stdout + stderr) when `collectOutput` was asked for, else '' */
  output(): string;
}

export function createIpcClient(child: ChildProcess, opts: LinkOptions & { collectOutput?: boolean } = {}): IpcClient {
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let out = '';
  if (opts.collectOutput) {
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  }
  const link = createServiceLink(createIpcTransport(child), { timeoutMs: opts.timeoutMs, onInvalid: opts.onInvalid });
  return Object.assign(link, { child, exited, output: () => out });
}

/** Forks out/node/service.cjs with an IPC channel (what Electron main does), its output collected. */
export function forkService(opts: { dbPath: string; dataDir: string; env?: NodeJS.ProcessEnv; extraArgs?: string[] }): IpcClient {
  const child = fork(nodeBundlePath('service'), ['--db', opts.dbPath, '--data-dir', opts.dataDir, '--ipc', ...(opts.extraArgs ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: opts.env ?? process.env,
  });
  return createIpcClient(child, { collectOutput: true });
}

// Node IPC transport (client side) for tests and scripts: forks the bundled service
// (out/node/service.cjs) and exposes the typed ServiceApi over its IPC channel. Responses and
// events are validated with the contract schemas where they enter the client.
// (Electron main keeps its own thin copy: it may not import service code.)
import { fork, type ChildProcess } from 'node:child_process';
import {
  COMMANDS,
  EVENTS,
  EventEnvelopeSchema,
  ResponseEnvelopeSchema,
  type CommandName,
  type CommandParams,
  type CommandResult,
  type EventName,
  type EventPayload,
  type ServiceApi,
} from '../../../src-shared/api/contract';
import { fromWireError, WorkstationError, type WireError } from '../../../src-shared/errors';
import { nodeBundlePath } from '../../paths';

export interface IpcClient extends ServiceApi {
  readonly child: ChildProcess;
  /** resolves with the exit code / signal once the process is gone */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** everything the service printed (stdout + stderr), for diagnostics */
  output(): string;
  close(): void;
}

export function createIpcClient(child: ChildProcess): IpcClient {
  let nextId = 1;
  const pending = new Map<number, { command: CommandName; resolve(v: unknown): void; reject(e: unknown): void }>();
  const handlers = new Map<string, Set<(p: unknown) => void>>();
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const p of pending.values()) p.reject(new WorkstationError('INTERNAL', `service exited (code ${code}, signal ${signal}) before answering ${p.command}`));
      pending.clear();
      resolve({ code, signal });
    });
  });
  child.on('message', (raw: unknown) => {
    const ev = EventEnvelopeSchema.safeParse(raw);
    if (ev.success) {
      const schema = EVENTS[ev.data.event as EventName];
      const payload = schema?.safeParse(ev.data.payload);
      if (!payload?.success) return; // invalid events are dropped at the client boundary
      for (const h of handlers.get(ev.data.event) ?? []) h(payload.data);
      return;
    }
    const res = ResponseEnvelopeSchema.safeParse(raw);
    if (!res.success) return;
    const p = pending.get(res.data.id);
    if (!p) return;
    pending.delete(res.data.id);
    if (!res.data.ok) return p.reject(fromWireError((res.data.error ?? { name: 'Error', code: 'INTERNAL', message: 'unknown error' }) as WireError));
    const result = COMMANDS[p.command].result.safeParse(res.data.result);
    if (!result.success) p.reject(new WorkstationError('INTERNAL', `${p.command}: response does not match the contract: ${result.error.issues[0]?.message}`));
    else p.resolve(result.data);
  });
  return {
    child,
    exited,
    output: () => out,
    call<C extends CommandName>(command: C, params: CommandParams<C>): Promise<CommandResult<C>> {
      const id = nextId++;
      return new Promise<CommandResult<C>>((resolve, reject) => {
        if (!child.connected) return reject(new WorkstationError('INTERNAL', 'service is not connected'));
        pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject });
        child.send({ type: 'request', id, command, params });
      });
    },
    on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void {
      let set = handlers.get(event);
      if (!set) handlers.set(event, (set = new Set()));
      set.add(handler as (p: unknown) => void);
      return () => set.delete(handler as (p: unknown) => void);
    },
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

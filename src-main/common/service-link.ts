// A Node-side link to the training service: one message transport (Node IPC or WebSocket, see
// ipc-client.ts and ws-client.ts) under the shared RPC client (src-shared/api/rpc-client.ts),
// plus the connection's end, which is final: every waiting call fails with the reason and later
// calls fail at once. Electron main, the CLI and tests all talk to the service through this.
import type { CommandName, CommandParams, CommandResult, EventName, ServiceApi } from '../../src-shared/api/contract';
import { createRpcClient, type RpcTransport } from '../../src-shared/api/rpc-client';
import { WorkstationError } from '../../src-shared/errors';

/** A message pipe to the service; both transports carry the contract's envelopes. */
export interface MessageTransport extends RpcTransport {
  onMessage(cb: (msg: unknown) => void): void;
  /** called once, with a reason for people, whichever end closes first */
  onClose(cb: (reason: string) => void): void;
  close(): void;
}

export interface ServiceLink extends ServiceApi {
  /** every event (already validated), e.g. for forwarding to the renderer */
  onAny(handler: (event: EventName, payload: unknown) => void): () => void;
  onClose(handler: (reason: string) => void): () => void;
  close(): void;
  readonly closed: boolean;
}

export interface LinkOptions {
  /** a call without an answer after this long fails (the service may be wedged); none by default */
  timeoutMs?: number;
  /** told about each message dropped at the client boundary */
  onInvalid?(message: string): void;
}

export function createServiceLink(transport: MessageTransport, opts: LinkOptions = {}): ServiceLink {
  const rpc = createRpcClient(transport, { timeoutMs: opts.timeoutMs, onInvalid: opts.onInvalid });
  let closed = false;
  const closeHandlers = new Set<(reason: string) => void>();
  transport.onMessage(rpc.handleMessage);
  transport.onClose((reason) => {
    if (closed) return;
    closed = true;
    rpc.failAll(`the training service went away (${reason})`);
    for (const h of closeHandlers) h(reason);
  });
  return {
    call<C extends CommandName>(command: C, params: CommandParams<C>): Promise<CommandResult<C>> {
      if (closed) return Promise.reject(new WorkstationError('INTERNAL', `${command}: the training service is not connected`));
      return rpc.call(command, params);
    },
    on: rpc.on,
    onAny: rpc.onAny,
    onClose(handler) {
      closeHandlers.add(handler);
      return () => void closeHandlers.delete(handler);
    },
    close() {
      transport.close();
    },
    get closed() {
      return closed;
    },
  };
}

/** Close callbacks that run once, for whichever end of a connection is noticed first. */
export function createCloseNotifier(): { add(cb: (reason: string) => void): void; fire(reason: string): void } {
  const cbs: ((reason: string) => void)[] = [];
  let done: string | null = null;
  return {
    add(cb) {
      // a transport that closed before anyone listened still tells a late listener
      if (done !== null) cb(done);
      else cbs.push(cb);
    },
    fire(reason) {
      if (done !== null) return;
      done = reason;
      for (const cb of cbs.splice(0)) cb(reason);
    },
  };
}

// The renderer ↔ main leg of the Electron app without a window: the renderer's shared RPC
// client sends request envelopes over a message transport (what the preload exposes), main
// checks the sender and the call and forwards it over its own link to the service, and the
// answer comes back as an envelope with the renderer's id. Messages are JSON-copied and
// delivered on a later microtask, as IPC would.
import { describe, expect, it } from 'vitest';
import type { RequestEnvelope, ResponseEnvelope } from '../../src-shared/api/contract';
import { createRpcClient, type RpcClient } from '../../src-shared/api/rpc-client';
import { answerRequest } from '../../src-shared/api/rpc-server';
import { WorkstationError } from '../../src-shared/errors';
import { createCloseNotifier, createServiceLink, type ServiceLink } from '../../src-main/common/service-link';
import { APP_ORIGIN } from '../../src-main/electron/csp';
import { relayRendererRequest, type RelayContext } from '../../src-main/electron/renderer-relay';

const copy = <T>(m: T): T => JSON.parse(JSON.stringify(m)) as T;

/** Main's link to a stand-in service that answers through the same envelope logic the real one uses. */
function fakeService(dispatch: (command: string, params: unknown) => Promise<unknown>): { link: ServiceLink; seen: string[] } {
  const seen: string[] = [];
  const listeners: ((m: unknown) => void)[] = [];
  const { add, fire } = createCloseNotifier();
  const link = createServiceLink({
    send(msg) {
      const req = copy(msg);
      queueMicrotask(() =>
        answerRequest(
          req,
          (c, p) => {
            seen.push(c);
            return dispatch(c, p);
          },
          (res) => queueMicrotask(() => listeners.forEach((l) => l(copy(res)))),
        ),
      );
    },
    onMessage: (cb) => void listeners.push(cb),
    onClose: add,
    close: () => fire('closed by client'),
  });
  return { link, seen };
}

/** The renderer's client over the relay; `raw` sends a message the way a page could. */
function renderer(ctx: () => RelayContext): { rpc: RpcClient; raw(msg: unknown): Promise<ResponseEnvelope> } {
  const waiting: ((r: ResponseEnvelope) => void)[] = [];
  const rpc = createRpcClient({
    send(msg: RequestEnvelope) {
      const m = copy(msg);
      queueMicrotask(() => relayRendererRequest(m, ctx(), (res) => queueMicrotask(() => rpc.handleMessage(copy(res)))));
    },
  });
  return {
    rpc,
    raw: (msg) =>
      new Promise((resolve) => {
        waiting.push(resolve);
        relayRendererRequest(copy(msg), ctx(), (res) => waiting.shift()?.(copy(res)));
      }),
  };
}

const service = fakeService(async (command, params) => {
  if (command === 'runs.list') return [];
  if (command === 'checkpoints.delete') return { deleted: (params as { deleteFile: boolean }).deleteFile, extra: 'dropped by the contract' };
  if (command === 'runs.get') throw new WorkstationError('NOT_FOUND', `run ${(params as { runId: number }).runId} not found`, { field: 'runId' });
  throw new Error(`unexpected ${command}`);
});
const appCtx = (): RelayContext => ({ senderUrl: `${APP_ORIGIN}/index.html`, appOrigin: APP_ORIGIN, client: service.link });

describe('renderer ↔ main relay', () => {
  it('carries calls and results through main to the service, checked against the contract', async () => {
    const { rpc } = renderer(appCtx);
    expect(await rpc.call('runs.list', {})).toEqual([]);
    expect(await rpc.call('checkpoints.delete', { checkpointId: 4, deleteFile: true })).toEqual({ deleted: true });
    expect(rpc.pendingCount).toBe(0);
  });

  it("brings the service's typed errors back with code and field", async () => {
    const { rpc } = renderer(appCtx);
    const err = await rpc.call('runs.get', { runId: 42 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkstationError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', field: 'runId', message: 'run 42 not found' });
  });

  it('refuses unknown commands, bad params and malformed envelopes before they reach the service', async () => {
    const { raw } = renderer(appCtx);
    const before = service.seen.length;
    expect(await raw({ type: 'request', id: 7, command: 'fs.readFile', params: {} })).toMatchObject({ id: 7, ok: false, error: { code: 'INVALID_COMMAND' } });
    expect(await raw({ type: 'request', id: 8, command: 'runs.get', params: { runId: 'x' } })).toMatchObject({
      id: 8,
      ok: false,
      error: { code: 'INVALID_ARGUMENT', field: 'params.runId' },
    });
    expect(await raw({ type: 'request', id: 9, command: 'runs.list', params: { extra: 1 } })).toMatchObject({
      id: 9,
      ok: false,
      error: { code: 'INVALID_ARGUMENT' },
    });
    expect(await raw({ id: 10, command: 'runs.list' })).toMatchObject({
      id: 10,
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: 'malformed request envelope' },
    });
    expect(await raw('runs.list')).toMatchObject({ id: -1, ok: false });
    expect(service.seen.length).toBe(before);
  });

  it('answers only the app’s own pages', async () => {
    const before = service.seen.length;
    for (const senderUrl of ['https://evil.example/', 'file:///tmp/x.html', '']) {
      const { rpc } = renderer(() => ({ ...appCtx(), senderUrl }));
      const err = await rpc.call('runs.list', {}).catch((e: unknown) => e);
      expect(err, senderUrl).toMatchObject({ code: 'UNAUTHORIZED' });
    }
    expect(service.seen.length).toBe(before);
  });

  it('says so while the service (re)starts', async () => {
    const { rpc } = renderer(() => ({ ...appCtx(), client: null }));
    expect(await rpc.call('runs.list', {}).catch((e: unknown) => e)).toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/\(re\)starting/) });
  });
});

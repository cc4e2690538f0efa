// The shared RPC client (src-shared/api/rpc-client.ts) over a real in-memory message pair: each
// message is JSON-encoded like on the wire and delivered on a later microtask, as a socket would.
// The far end answers requests the way the service's transports do (envelopes, wire errors).
import { describe, expect, it } from 'vitest';
import type { RequestEnvelope } from '../../src-shared/api/contract';
import { createRpcClient, type RpcClient, type RpcClientOptions } from '../../src-shared/api/rpc-client';
import { WorkstationError, toWireError } from '../../src-shared/errors';

type Reply = { ok: true; result: unknown } | { ok: false; error: unknown } | 'silent';

/** The service end: answers each request with what `answer` returns; can push events. */
function createPair(answer: (req: RequestEnvelope) => Reply, opts: RpcClientOptions = {}) {
  const received: RequestEnvelope[] = [];
  const toClient = (msg: unknown): void => {
    const text = JSON.stringify(msg);
    queueMicrotask(() => client.handleMessage(JSON.parse(text)));
  };
  const client: RpcClient = createRpcClient(
    {
      send(msg) {
        const text = JSON.stringify(msg);
        queueMicrotask(() => {
          const req = JSON.parse(text) as RequestEnvelope;
          received.push(req);
          const reply = answer(req);
          if (reply !== 'silent') toClient({ type: 'response', id: req.id, ...reply });
        });
      },
    },
    opts,
  );
  return {
    client,
    received,
    emit: (event: string, payload: unknown) => toClient({ type: 'event', event, payload }),
    push: toClient,
  };
}

/** Lets queued microtasks (message deliveries) run. */
const flush = () => new Promise<void>((r) => setTimeout(r, 0));

const logLine = (message: string) => ({ level: 'info', message, runId: null, at: '2026-11-24T20:00:00.000Z' });

describe('shared RPC client', () => {
  it('sends request envelopes and resolves with the result checked against the contract', async () => {
    const { client, received } = createPair((req) =>
      req.command === 'runs.updateAugment'
        ? { ok: true, result: { effectiveFromStep: 120, extra: 'stripped by the schema' } }
        : { ok: true, result: { deleted: true } },
    );
    const [a, b] = await Promise.all([
      client.call('runs.updateAugment', { runId: 3, patch: { hflip: 0 } }),
      client.call('checkpoints.delete', { checkpointId: 9, deleteFile: true }),
    ]);
    expect(a).toEqual({ effectiveFromStep: 120 });
    expect(b).toEqual({ deleted: true });
    expect(received.map((r) => [r.type, r.command, r.params])).toEqual([
      ['request', 'runs.updateAugment', { runId: 3, patch: { hflip: 0 } }],
      ['request', 'checkpoints.delete', { checkpointId: 9, deleteFile: true }],
    ]);
    expect(new Set(received.map((r) => r.id)).size).toBe(2);
    expect(client.pendingCount).toBe(0);
  });

  it('matches answers to calls by id when they come back out of order', async () => {
    const held: RequestEnvelope[] = [];
    const { client, push } = createPair((req) => {
      held.push(req);
      return 'silent';
    });
    const first = client.call('runs.updateAugment', { runId: 1, patch: {} });
    const second = client.call('runs.updateAugment', { runId: 2, patch: {} });
    await flush();
    expect(client.pendingCount).toBe(2);
    for (const req of [...held].reverse())
      push({ type: 'response', id: req.id, ok: true, result: { effectiveFromStep: (req.params as { runId: number }).runId * 100 } });
    expect(await first).toEqual({ effectiveFromStep: 100 });
    expect(await second).toEqual({ effectiveFromStep: 200 });
  });

  it('rejects a result that does not match the contract, naming the field', async () => {
    const { client } = createPair(() => ({ ok: true, result: { effectiveFromStep: 'soon' } }));
    const err = await client.call('runs.updateAugment', { runId: 1, patch: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkstationError);
    expect((err as WorkstationError).code).toBe('INTERNAL');
    expect((err as WorkstationError).message).toMatch(/^runs\.updateAugment: result does not match the contract at effectiveFromStep: /);
  });

  it('passes typed errors through with code, field and path', async () => {
    const { client } = createPair((req) =>
      req.command === 'runs.start'
        ? { ok: false, error: toWireError(new WorkstationError('INVALID_CONFIG', 'optimizer.lr must be > 0', { field: 'optimizer.lr' })) }
        : { ok: false, error: toWireError(new WorkstationError('NOT_FOUND', 'checkpoint file is gone', { path: '/data/ckpt/e3.ckpt' })) },
    );
    const started = await client.call('runs.start', { config: { optimizer: { lr: -1 } } }).catch((e: unknown) => e);
    expect(started).toBeInstanceOf(WorkstationError);
    expect(started).toMatchObject({ code: 'INVALID_CONFIG', field: 'optimizer.lr', message: 'optimizer.lr must be > 0' });
    const deleted = await client.call('checkpoints.delete', { checkpointId: 1, deleteFile: true }).catch((e: unknown) => e);
    expect(deleted).toMatchObject({ code: 'NOT_FOUND', path: '/data/ckpt/e3.ckpt' });
  });

  it('turns an error with an unknown code or no details into INTERNAL', async () => {
    const { client } = createPair((req) =>
      req.command === 'runs.list' ? { ok: false, error: { name: 'Error', code: 'EWHATEVER', message: 'disk on fire' } } : { ok: false, error: undefined },
    );
    expect(await client.call('runs.list', {}).catch((e: unknown) => e)).toMatchObject({ code: 'INTERNAL', message: 'disk on fire' });
    expect(await client.call('state.get', {}).catch((e: unknown) => e)).toMatchObject({
      code: 'INTERNAL',
      message: 'state.get: the service reported an error without details',
    });
  });

  it('delivers valid events and drops invalid ones, reporting them', async () => {
    const invalid: string[] = [];
    const { client, emit, push } = createPair(() => 'silent', { onInvalid: (m) => invalid.push(m) });
    const lines: string[] = [];
    const any: string[] = [];
    client.on('log.line', (p) => lines.push(p.message));
    client.onAny((e) => any.push(e));
    emit('log.line', logLine('first'));
    emit('log.line', { ...logLine('loud'), level: 'loud' });
    emit('no.such.event', {});
    push({ type: 'event', payload: {} });
    push({ type: 'response', id: 'x', ok: true });
    push({ hello: 'world' });
    emit('log.line', logLine('second'));
    await flush();
    expect(lines).toEqual(['first', 'second']);
    expect(any).toEqual(['log.line', 'log.line']);
    expect(invalid).toHaveLength(5);
    expect(invalid[0]).toMatch(/^invalid log\.line payload dropped \(level: /);
    expect(invalid[1]).toBe('unknown event "no.such.event" dropped');
    expect(invalid.slice(2)).toEqual(['malformed event dropped', 'malformed response dropped', 'message of unknown type undefined dropped']);
  });

  it('stops delivering to a handler once it unsubscribes', async () => {
    const { client, emit } = createPair(() => 'silent');
    const a: string[] = [];
    const b: string[] = [];
    const offA = client.on('log.line', (p) => a.push(p.message));
    client.on('log.line', (p) => b.push(p.message));
    const offAny = client.onAny((_e, p) => a.push(`any:${(p as { message: string }).message}`));
    emit('log.line', logLine('one'));
    await flush();
    offA();
    offAny();
    emit('log.line', logLine('two'));
    await flush();
    expect(a).toEqual(['one', 'any:one']);
    expect(b).toEqual(['one', 'two']);
  });

  it('failAll rejects every waiting call and ignores their late answers', async () => {
    const held: RequestEnvelope[] = [];
    const { client, push } = createPair((req) => {
      held.push(req);
      return 'silent';
    });
    const calls = [client.call('runs.list', {}), client.call('state.get', {})].map((p) => p.catch((e: unknown) => e));
    await flush();
    client.failAll('connection to the service was lost');
    const errs = await Promise.all(calls);
    expect(errs.map((e) => [e instanceof WorkstationError, (e as WorkstationError).code, (e as Error).message])).toEqual([
      [true, 'INTERNAL', 'runs.list: connection to the service was lost'],
      [true, 'INTERNAL', 'state.get: connection to the service was lost'],
    ]);
    expect(client.pendingCount).toBe(0);
    // a late answer for a failed call goes nowhere; the client keeps working afterwards
    push({ type: 'response', id: held[0].id, ok: true, result: [] });
    await flush();
    const later = client.call('runs.list', {});
    await flush();
    push({ type: 'response', id: held[2].id, ok: true, result: [] });
    expect(await later).toEqual([]);
  });

  it('fails a call at once when the transport cannot send, or the command is unknown', async () => {
    const client = createRpcClient({
      send(msg) {
        if (msg.command === 'state.get') throw new WorkstationError('INTERNAL', 'not connected');
        throw new Error('socket closed');
      },
    });
    expect(await client.call('state.get', {}).catch((e: unknown) => e)).toMatchObject({ code: 'INTERNAL', message: 'not connected' });
    expect(await client.call('runs.list', {}).catch((e: unknown) => e)).toMatchObject({
      code: 'INTERNAL',
      message: 'runs.list: could not reach the training service: socket closed',
    });
    expect(await client.call('runs.explode' as 'runs.list', {}).catch((e: unknown) => e)).toMatchObject({ code: 'INVALID_COMMAND', field: 'command' });
    expect(client.pendingCount).toBe(0);
  });

  it('fails a call that gets no answer within timeoutMs', async () => {
    const { client } = createPair(() => 'silent', { timeoutMs: 20 });
    const err = await client.call('state.get', {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTERNAL', message: 'state.get: no answer from the training service after 20 ms' });
    expect(client.pendingCount).toBe(0);
  });
});

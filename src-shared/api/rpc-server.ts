// The one answering side of the contract's envelopes, for whatever receives requests: the
// service's transports (Node IPC, WebSocket) and Electron main's bridge for the renderer. A raw
// message in, a response envelope out: a malformed envelope gets a typed error response (with
// the request id when it has one), a handler's error becomes a typed error response. The
// `dispatch` it is given validates the command and params. Pure TypeScript.
import { toWireError, WorkstationError } from '../errors';
import { RequestEnvelopeSchema, type ResponseEnvelope } from './contract';

export type Dispatch = (command: string, params: unknown) => Promise<unknown>;

export function answerRequest(raw: unknown, dispatch: Dispatch, respond: (msg: ResponseEnvelope) => void): void {
  const parsed = RequestEnvelopeSchema.safeParse(raw);
  if (!parsed.success) {
    const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
    respond({ type: 'response', id, ok: false, error: toWireError(new WorkstationError('INVALID_ARGUMENT', 'malformed request envelope')) });
    return;
  }
  const req = parsed.data;
  let answer: Promise<unknown>;
  try {
    answer = dispatch(req.command, req.params);
  } catch (err) {
    // a dispatch that throws at once answers like one that rejects
    answer = Promise.reject(err);
  }
  answer.then(
    (result) => respond({ type: 'response', id: req.id, ok: true, result }),
    (err: unknown) => respond({ type: 'response', id: req.id, ok: false, error: toWireError(err) }),
  );
}

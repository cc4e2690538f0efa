// Node IPC transport (service side): the Electron main process forks the service with an IPC
// channel; requests come in as RequestEnvelopes, responses and events go out as envelopes.
// Bad messages get a typed error response; nothing a client sends can crash the service.
import { RequestEnvelopeSchema, type EventEnvelope, type ResponseEnvelope } from '../../../src-shared/api/contract';
import { toWireError, WorkstationError } from '../../../src-shared/errors';
import type { Service } from '../service';

interface IpcProcess {
  send?: (msg: unknown) => boolean;
  connected?: boolean;
  on(event: 'message', handler: (msg: unknown) => void): unknown;
  off(event: 'message', handler: (msg: unknown) => void): unknown;
}

export function serveIpc(service: Service, proc: IpcProcess = process): () => void {
  const send = (msg: ResponseEnvelope | EventEnvelope): void => {
    if (proc.send && proc.connected !== false) {
      try {
        proc.send(msg);
      } catch {
        /* the parent went away; the service keeps training */
      }
    }
  };
  const onMessage = (raw: unknown): void => {
    const parsed = RequestEnvelopeSchema.safeParse(raw);
    if (!parsed.success) {
      const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
      send({ type: 'response', id, ok: false, error: toWireError(new WorkstationError('INVALID_ARGUMENT', 'malformed request envelope')) });
      return;
    }
    const req = parsed.data;
    service.dispatch(req.command, req.params).then(
      (result) => send({ type: 'response', id: req.id, ok: true, result }),
      (err: unknown) => send({ type: 'response', id: req.id, ok: false, error: toWireError(err) }),
    );
  };
  proc.on('message', onMessage);
  const offEvents = service.onAny((event, payload) => send({ type: 'event', event, payload }));
  return () => {
    proc.off('message', onMessage);
    offEvents();
  };
}

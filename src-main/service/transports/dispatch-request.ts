// The service side of every transport: a raw message in, a response envelope out. A malformed
// envelope gets a typed error response (with the request id when it has one); handler errors
// become typed error responses. Transports only move messages.
import { RequestEnvelopeSchema, type ResponseEnvelope } from '../../../src-shared/api/contract';
import { toWireError, WorkstationError } from '../../../src-shared/errors';
import type { Service } from '../service';

export function dispatchRequest(service: Service, raw: unknown, respond: (msg: ResponseEnvelope) => void): void {
  const parsed = RequestEnvelopeSchema.safeParse(raw);
  if (!parsed.success) {
    const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
    respond({ type: 'response', id, ok: false, error: toWireError(new WorkstationError('INVALID_ARGUMENT', 'malformed request envelope')) });
    return;
  }
  const req = parsed.data;
  service.dispatch(req.command, req.params).then(
    (result) => respond({ type: 'response', id: req.id, ok: true, result }),
    (err: unknown) => respond({ type: 'response', id: req.id, ok: false, error: toWireError(err) }),
  );
}

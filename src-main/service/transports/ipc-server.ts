// Node IPC transport (service side): the Electron main process forks the service with an IPC
// channel; requests come in as RequestEnvelopes, responses and events go out as envelopes.
// Bad messages get a typed error response; nothing a client sends can crash the service.
import type { EventEnvelope, ResponseEnvelope } from '../../../src-shared/api/contract';
import type { Service } from '../service';
import { dispatchRequest } from './dispatch-request';

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
    dispatchRequest(service, raw, send);
  };
  proc.on('message', onMessage);
  const offEvents = service.onAny((event, payload) => send({ type: 'event', event, payload }));
  return () => {
    proc.off('message', onMessage);
    offEvents();
  };
}

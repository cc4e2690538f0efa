// The service side of every transport: a raw message in, a response envelope out, answered by
// the shared envelope logic (src-shared/api/rpc-server.ts) with the service's own dispatch,
// which validates the command and params. Transports only move messages.
import type { ResponseEnvelope } from '../../../src-shared/api/contract';
import { answerRequest } from '../../../src-shared/api/rpc-server';
import type { Service } from '../service';

export function dispatchRequest(service: Service, raw: unknown, respond: (msg: ResponseEnvelope) => void): void {
  answerRequest(raw, (command, params) => service.dispatch(command, params), respond);
}

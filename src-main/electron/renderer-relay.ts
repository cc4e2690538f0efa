// Main's answer to one request envelope from the renderer (over the preload's message
// transport): the page that sent it must be the app's own, the call must be a declared command
// with schema-valid params (call-validation.ts), and only then is it forwarded to the service;
// the answer is a response envelope with the renderer's id. Pure (no Electron), so the whole
// renderer ↔ main leg is tested without a window; ipc-bridge.ts wires it to ipcMain.
import type { ResponseEnvelope } from '../../src-shared/api/contract';
import { answerRequest } from '../../src-shared/api/rpc-server';
import { WorkstationError } from '../../src-shared/errors';
import type { ServiceLink } from '../common/service-link';
import { validateCall } from './call-validation';
import { isAllowedNavigation } from './csp';

/** Throws UNAUTHORIZED unless `senderUrl` is a page of the app (its origin, or the dev server). */
export function checkSender(senderUrl: string, appOrigin: string): void {
  if (!isAllowedNavigation(senderUrl, appOrigin)) throw new WorkstationError('UNAUTHORIZED', `IPC from an unexpected page (${senderUrl || 'unknown'})`);
}

export interface RelayContext {
  /** the URL of the frame that sent the message */
  senderUrl: string;
  appOrigin: string;
  /** the current service client, null while the service (re)starts */
  client: ServiceLink | null;
}

export function relayRendererRequest(raw: unknown, ctx: RelayContext, reply: (msg: ResponseEnvelope) => void): void {
  answerRequest(
    raw,
    async (command, params) => {
      checkSender(ctx.senderUrl, ctx.appOrigin);
      const checked = validateCall(command, params);
      if (!ctx.client) throw new WorkstationError('INTERNAL', 'the training service is (re)starting; try again in a moment');
      return ctx.client.call(checked.command, checked.params as never);
    },
    reply,
  );
}

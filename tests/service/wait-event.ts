// Waits for a service event matching a predicate (subscribe BEFORE triggering what emits it).
import type { EventName, EventPayload, ServiceApi } from '../../src-shared/api/contract';

export function waitEvent<E extends EventName>(
  api: Pick<ServiceApi, 'on'>,
  event: E,
  pred: (p: EventPayload<E>) => boolean = () => true,
  timeoutMs = 150_000,
): Promise<EventPayload<E>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${event}`));
    }, timeoutMs);
    const off = api.on(event, (p) => {
      if (!pred(p)) return;
      clearTimeout(timer);
      off();
      resolve(p);
    });
  });
}

/** Resolves when the run reaches one of the statuses (via run.status events). */
export function waitStatus(api: Pick<ServiceApi, 'on'>, runId: number, statuses: string[], timeoutMs?: number) {
  return waitEvent(api, 'run.status', (p) => p.run.id === runId && statuses.includes(p.run.status), timeoutMs).then((p) => p.run);
}

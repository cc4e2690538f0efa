// The webhook of a data directory (settings.webhookUrl): every notice as a JSON POST. Sending
// never blocks training: send() only queues; deliveries run in the background, each attempt with
// a timeout, retried on a network error, a timeout, HTTP 429 or 5xx with exponential backoff
// (1 s, 2 s, 4 s … capped at 60 s; a Retry-After header is honoured up to the cap) and given up
// after MAX_ATTEMPTS or on another 4xx. Retries carry the same X-Workstation-Delivery id, so a
// receiver can drop duplicates. The URL is kept as given, but never logged: logs show
// redactUrl(url), without userinfo, query values and token-like path segments.
import os from 'node:os';
import type { Notice, RunSummary } from '../../../src-shared/api/schemas';

export const WEBHOOK_DEFAULTS = { maxAttempts: 6, backoffMs: 1000, maxBackoffMs: 60_000, timeoutMs: 10_000, maxPending: 200 } as const;

/** A path segment kept in logs: a short lower-case word (services, api, webhooks); anything else may be a token. */
const PLAIN_SEGMENT = /^[a-z][a-z_-]{0,15}$/;

/** The URL with its secret parts replaced by *** (userinfo, every query value, the fragment, token-like path segments). */
export function redactUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return '<invalid URL>';
  }
  const userinfo = u.username || u.password ? '***@' : '';
  const segments = u.pathname.split('/').map((s) => (s === '' || PLAIN_SEGMENT.test(decodeURIComponent(s)) ? s : '***'));
  const query = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=***`).join('&');
  return `${u.protocol}//${userinfo}${u.host}${segments.join('/')}${query ? `?${query}` : ''}${u.hash ? '#***' : ''}`;
}

/** Removes every secret part of `url` from a text (an error message may quote the URL). */
export function scrubUrl(text: string, raw: string): string {
  let out = text.split(raw).join(redactUrl(raw));
  try {
    const u = new URL(raw);
    const secrets = [
      u.username,
      u.password,
      decodeURIComponent(u.username),
      decodeURIComponent(u.password),
      ...[...u.searchParams.values()],
      u.search.slice(1),
      u.hash.slice(1),
      ...u.pathname
        .split('/')
        .filter((s) => s !== '' && !PLAIN_SEGMENT.test(decodeURIComponent(s)))
        .flatMap((s) => [s, decodeURIComponent(s)]),
    ].filter((s) => s.length >= 3);
    for (const s of secrets.sort((a, b) => b.length - a.length)) out = out.split(s).join('***');
  } catch {
    /* not a URL: nothing more to hide */
  }
  return out;
}

/** fetch refuses URLs with credentials: user:password@ becomes an HTTP Basic Authorization header. */
function splitCredentials(raw: string): { target: string; authorization: string | null } {
  const u = new URL(raw);
  if (!u.username && !u.password) return { target: raw, authorization: null };
  const auth = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  return { target: u.toString(), authorization: `Basic ${auth}` };
}

/** What the receiver gets: the notice, where it comes from, and the run as it stands. */
export function webhookPayload(n: Notice, run: RunSummary | undefined): Record<string, unknown> {
  return {
    event: `run.${n.kind}`,
    id: n.id,
    kind: n.kind,
    title: n.title,
    body: n.body,
    at: n.at,
    host: os.hostname(),
    run: run
      ? {
          id: run.id,
          name: run.name,
          status: run.status,
          lastEpoch: run.lastEpoch,
          targetEpochs: run.targetEpochs,
          bestValTop1: run.bestValTop1,
          error: run.error,
          tags: run.tags ?? [],
        }
      : { id: n.runId, name: n.runName },
  };
}

export interface WebhookOptions {
  /** read at each attempt: a URL changed or removed in settings applies to what is still pending */
  url(): string | null;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  maxAttempts?: number;
  backoffMs?: number;
  maxBackoffMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface WebhookSender {
  /** queues one POST and returns at once */
  send(payload: Record<string, unknown> & { id: string; kind: string }): void;
  /** resolves when nothing is pending (tests, shutdown) */
  idle(): Promise<void>;
  /** waits up to graceMs for pending deliveries, then abandons the rest (aborting requests in flight) */
  close(graceMs?: number): Promise<void>;
}

export function createWebhookSender(opts: WebhookOptions): WebhookSender {
  const maxAttempts = opts.maxAttempts ?? WEBHOOK_DEFAULTS.maxAttempts;
  const backoffMs = opts.backoffMs ?? WEBHOOK_DEFAULTS.backoffMs;
  const maxBackoffMs = opts.maxBackoffMs ?? WEBHOOK_DEFAULTS.maxBackoffMs;
  const timeoutMs = opts.timeoutMs ?? WEBHOOK_DEFAULTS.timeoutMs;
  const doFetch = opts.fetch ?? fetch;
  const closing = new AbortController();
  const pending = new Set<Promise<void>>();
  let idleWaiters: (() => void)[] = [];
  let closed = false;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      closing.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });

  async function deliver(payload: Record<string, unknown> & { id: string; kind: string }): Promise<void> {
    const body = JSON.stringify(payload);
    for (let attempt = 1; attempt <= maxAttempts && !closing.signal.aborted; attempt++) {
      const url = opts.url();
      if (!url) return; // removed in the meantime
      let retryAfterMs: number | null = null;
      let why: string;
      try {
        const { target, authorization } = splitCredentials(url);
        const res = await doFetch(target, {
          method: 'POST',
          headers: {
            ...(authorization ? { authorization } : {}),
            'content-type': 'application/json',
            'user-agent': 'imagenet-workstation',
            'x-workstation-event': String(payload.kind),
            'x-workstation-delivery': payload.id,
            'x-workstation-attempt': String(attempt),
          },
          body,
          signal: AbortSignal.any([closing.signal, AbortSignal.timeout(timeoutMs)]),
          redirect: 'error',
        });
        await res.arrayBuffer().catch(() => undefined); // drain, so the connection is reused or closed
        if (res.ok) {
          if (attempt > 1) opts.log('info', `webhook ${redactUrl(url)}: ${payload.kind} delivered on attempt ${attempt}`);
          return;
        }
        why = `HTTP ${res.status}`;
        if (res.status !== 429 && res.status < 500) {
          opts.log('warn', `webhook ${redactUrl(url)}: ${payload.kind} refused with ${why}; not retried`);
          return;
        }
        const header = res.headers.get('retry-after');
        const ra = header === null || header.trim() === '' ? NaN : Number(header);
        if (Number.isFinite(ra) && ra >= 0) retryAfterMs = ra * 1000;
      } catch (e) {
        if (closing.signal.aborted) return;
        const err = e as Error & { cause?: { code?: string; message?: string } };
        const detail =
          err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${err.message}${err.cause ? ` (${err.cause.code ?? err.cause.message})` : ''}`;
        why = scrubUrl(detail, url);
      }
      if (attempt === maxAttempts) {
        opts.log('error', `webhook ${redactUrl(url)}: ${payload.kind} not delivered after ${maxAttempts} attempts (last: ${why})`);
        return;
      }
      const delay = Math.min(maxBackoffMs, retryAfterMs ?? backoffMs * 2 ** (attempt - 1));
      opts.log('warn', `webhook ${redactUrl(url)}: ${payload.kind} attempt ${attempt} of ${maxAttempts} failed (${why}); retrying in ${delay / 1000} s`);
      await sleep(delay);
    }
  }

  function settle(p: Promise<void>): void {
    pending.delete(p);
    if (pending.size === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      for (const r of w) r();
    }
  }

  const sender: WebhookSender = {
    send(payload) {
      if (closed) return;
      if (pending.size >= WEBHOOK_DEFAULTS.maxPending) {
        opts.log('warn', `webhook: ${pending.size} deliveries pending; ${payload.kind} notice dropped`);
        return;
      }
      const p: Promise<void> = Promise.resolve()
        .then(() => deliver(payload))
        .catch((e: unknown) => opts.log('error', `webhook: ${(e as Error)?.message ?? String(e)}`))
        .finally(() => settle(p));
      pending.add(p);
    },
    idle() {
      return pending.size === 0 ? Promise.resolve() : new Promise((r) => idleWaiters.push(r));
    },
    async close(graceMs = 2000) {
      closed = true;
      if (pending.size > 0) await Promise.race([sender.idle(), new Promise((r) => setTimeout(r, graceMs).unref())]);
      closing.abort();
      await Promise.allSettled([...pending]);
    },
  };
  return sender;
}

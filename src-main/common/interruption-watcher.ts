// Watches the EC2 instance metadata service (IMDSv2) for a spot interruption or a scheduled
// instance event, so a run that has trained for days can checkpoint before the instance goes.
// Off EC2 (or where the hop limit hides the service from a container) the service does not
// answer: that is reported once and polled slowly, never an error, so starting the watcher
// anywhere is harmless. Nothing here throws into the caller or blocks it: every failure goes to
// the log callback and the next poll tries again.

export interface InterruptionNotice {
  kind: 'spot' | 'maintenance';
  /** spot: terminate | stop | hibernate; maintenance: the event Code (instance-reboot, system-maintenance, ...). */
  action: string;
  /** spot: the instance-action `time`; maintenance: the event's NotBefore; as the service wrote it, null when absent. */
  time: string | null;
  description: string;
}

export type InterruptionLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type MetadataServiceStatus = 'reachable' | 'unreachable';

export interface InterruptionWatcherOptions {
  /** Default http://169.254.169.254. */
  baseUrl?: string;
  /** Poll interval while the service answers. Default 5000 ms. */
  intervalMs?: number;
  /** Poll interval while the service does not answer (not on EC2). Default 60000 ms. */
  unreachableIntervalMs?: number;
  /** Per-request timeout. Default 2000 ms. */
  timeoutMs?: number;
  /** Fires once per distinct notice (a rescheduled event is a new notice), not on every poll. */
  onNotice(n: InterruptionNotice): void;
  onLog?(level: InterruptionLogLevel, msg: string): void;
  /** Fires when the service is first found reachable or unreachable, and on every change after. */
  onStatus?(status: MetadataServiceStatus): void;
}

export interface InterruptionWatcher {
  /** Clears the timer, aborts and waits for an in-flight poll; no request is made after it resolves. */
  stop(): Promise<void>;
  /**
   * Polls now (sharing a poll already in flight) and resolves to the notice in effect: the spot
   * interruption if any, else the first active scheduled event, else null. Never rejects; null
   * after stop().
   */
  pollOnce(): Promise<InterruptionNotice | null>;
}

export const DEFAULT_IMDS_BASE_URL = 'http://169.254.169.254';
const DEFAULT_INTERVAL_MS = 5_000;
const DEFAULT_UNREACHABLE_INTERVAL_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 2_000;
const TOKEN_TTL_S = 21_600;
// Refresh a minute early so a token never expires between the check and the request.
const TOKEN_REFRESH_MARGIN_MS = 60_000;
const TOKEN_PATH = '/latest/api/token';
const SPOT_PATH = '/latest/meta-data/spot/instance-action';
const EVENTS_PATH = '/latest/meta-data/events/maintenance/scheduled';

/** The service did not answer at all (connection refused/reset, timeout): not on EC2. */
class UnreachableError extends Error {}
/** stop() aborted the request. */
class StoppedError extends Error {}

const SPOT_VERBS: Record<string, string> = { terminate: 'terminate', stop: 'stop', hibernate: 'hibernate' };

/** One sentence for the event log. */
export function describeNotice(n: InterruptionNotice): string {
  if (n.kind === 'spot') {
    const verb = SPOT_VERBS[n.action] ?? `be interrupted (action "${n.action}")`;
    return `EC2 spot interruption: the instance will ${verb} ${n.time ? `at ${n.time}` : 'soon (no time given)'}`;
  }
  const when = n.time ? `, not before ${n.time}` : '';
  return `EC2 scheduled maintenance (${n.action}): ${n.description}${when}`;
}

function positiveOr(value: number | undefined, fallback: number, name: string, warn: (msg: string) => void): number {
  if (value === undefined) return fallback;
  if (Number.isFinite(value) && value > 0) return value;
  warn(`interruption watcher: ${name} must be a positive number of milliseconds, got ${String(value)}; using ${fallback}`);
  return fallback;
}

function describeFetchError(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
}

function stringField(obj: Record<string, unknown>, key: string): string | null {
  const v = obj[key];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// A rescheduled event (new NotBefore) or a changed spot action is a new notice.
function noticeKey(n: InterruptionNotice, id: string | null): string {
  return JSON.stringify([n.kind, id, n.action, n.time, n.description]);
}

export function startInterruptionWatcher(opts: InterruptionWatcherOptions): InterruptionWatcher {
  const log = (level: InterruptionLogLevel, msg: string): void => {
    try {
      opts.onLog?.(level, msg);
    } catch {
      // A failing logger must not stop the watcher.
    }
  };
  const warnOpt = (msg: string) => log('warn', msg);
  const intervalMs = positiveOr(opts.intervalMs, DEFAULT_INTERVAL_MS, 'intervalMs', warnOpt);
  const slowIntervalMs = positiveOr(opts.unreachableIntervalMs, DEFAULT_UNREACHABLE_INTERVAL_MS, 'unreachableIntervalMs', warnOpt);
  const timeoutMs = positiveOr(opts.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs', warnOpt);

  let base: string;
  try {
    const u = new URL(opts.baseUrl ?? DEFAULT_IMDS_BASE_URL);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`unsupported protocol ${u.protocol}`);
    base = u.href.replace(/\/+$/, '');
  } catch (e) {
    log('error', `interruption watcher not started: bad baseUrl ${JSON.stringify(opts.baseUrl)} (${(e as Error).message})`);
    return { stop: async () => {}, pollOnce: async () => null };
  }

  const stopCtl = new AbortController();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let inflight: Promise<InterruptionNotice | null> | null = null;
  let status: MetadataServiceStatus | null = null;
  let lastError: string | null = null;
  let token: { value: string; refreshAt: number } | null = null;
  let tokenFetch: Promise<string> | null = null;
  const reported = new Set<string>();

  const setStatus = (next: MetadataServiceStatus, reason?: string): void => {
    if (status === next) return;
    const previous = status;
    status = next;
    if (next === 'unreachable') {
      lastError = null; // a new episode: its errors are news again
      log(
        'warn',
        `EC2 metadata service at ${base} is unreachable (${reason}); not on EC2, or its hop limit hides it from a container. ` +
          `No spot/maintenance notices; checking again every ${Math.round(slowIntervalMs / 1000)} s`,
      );
    } else {
      log(
        'info',
        `EC2 metadata service at ${base} ${previous === null ? 'reachable' : 'reachable again'}: watching for spot interruptions and scheduled events`,
      );
    }
    try {
      opts.onStatus?.(next);
    } catch (e) {
      log('error', `interruption watcher: onStatus threw: ${(e as Error).message}`);
    }
  };

  // Same message as last time: keep quiet, or a broken endpoint would log every 5 s for days.
  const reportError = (msg: string): void => {
    if (msg === lastError) return;
    lastError = msg;
    log('warn', `interruption watcher: ${msg}`);
  };

  async function request(method: 'GET' | 'PUT', path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
    if (stopCtl.signal.aborted) throw new StoppedError('stopped');
    try {
      const res = await fetch(base + path, { method, headers, signal: AbortSignal.any([stopCtl.signal, AbortSignal.timeout(timeoutMs)]), redirect: 'manual' });
      // Always read the body so the keep-alive connection is released.
      const body = await res.text();
      return { status: res.status, body };
    } catch (e) {
      if (stopCtl.signal.aborted) throw new StoppedError('stopped');
      throw new UnreachableError(`${method} ${path}: ${describeFetchError(e, timeoutMs)}`);
    }
  }

  async function fetchToken(): Promise<string> {
    const res = await request('PUT', TOKEN_PATH, { 'X-aws-ec2-metadata-token-ttl-seconds': String(TOKEN_TTL_S) });
    const value = res.body.trim();
    if (res.status !== 200 || value === '') throw new Error(`PUT ${TOKEN_PATH} answered HTTP ${res.status}${value === '' ? ' with no token' : ''}`);
    token = { value, refreshAt: Date.now() + TOKEN_TTL_S * 1000 - TOKEN_REFRESH_MARGIN_MS };
    return value;
  }

  function currentToken(): Promise<string> {
    if (token && Date.now() < token.refreshAt) return Promise.resolve(token.value);
    tokenFetch ??= fetchToken().finally(() => {
      tokenFetch = null;
    });
    return tokenFetch;
  }

  /** GET with the session token; a 401 means it expired or was revoked: fetch a new one and retry once. */
  async function getWithToken(path: string): Promise<{ status: number; body: string }> {
    const used = await currentToken();
    let res = await request('GET', path, { 'X-aws-ec2-metadata-token': used });
    if (res.status === 401) {
      if (token?.value === used) token = null;
      log('debug', `interruption watcher: ${path} refused the metadata token (HTTP 401); fetching a new one`);
      res = await request('GET', path, { 'X-aws-ec2-metadata-token': await currentToken() });
    }
    return res;
  }

  async function checkSpot(): Promise<InterruptionNotice[]> {
    const res = await getWithToken(SPOT_PATH);
    if (res.status === 404) return [];
    if (res.status !== 200) throw new Error(`GET ${SPOT_PATH} answered HTTP ${res.status}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      parsed = null;
    }
    // A 200 here means the instance is being reclaimed: an unreadable body still is a notice.
    if (!isObject(parsed) || stringField(parsed, 'action') === null) {
      log('warn', `interruption watcher: ${SPOT_PATH} answered 200 with an unexpected body: ${res.body.slice(0, 200)}`);
      return [{ kind: 'spot', action: 'unknown', time: null, description: 'spot instance-action (unreadable details)' }];
    }
    const action = stringField(parsed, 'action') as string;
    const time = stringField(parsed, 'time');
    return [{ kind: 'spot', action, time, description: `spot instance-action: ${action}${time ? ` at ${time}` : ''}` }];
  }

  async function checkEvents(): Promise<{ notice: InterruptionNotice; id: string | null }[]> {
    const res = await getWithToken(EVENTS_PATH);
    if (res.status === 404) return [];
    if (res.status !== 200) throw new Error(`GET ${EVENTS_PATH} answered HTTP ${res.status}`);
    if (res.body.trim() === '') return [];
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      throw new Error(`GET ${EVENTS_PATH} answered a body that is not JSON: ${res.body.slice(0, 200)}`);
    }
    if (!Array.isArray(parsed)) throw new Error(`GET ${EVENTS_PATH} answered JSON that is not an array of events`);
    const out: { notice: InterruptionNotice; id: string | null }[] = [];
    for (const ev of parsed) {
      if (!isObject(ev) || stringField(ev, 'State')?.toLowerCase() !== 'active') continue;
      const action = stringField(ev, 'Code') ?? 'unknown';
      out.push({
        notice: { kind: 'maintenance', action, time: stringField(ev, 'NotBefore'), description: stringField(ev, 'Description') ?? action },
        id: stringField(ev, 'EventId'),
      });
    }
    return out;
  }

  function announce(n: InterruptionNotice, id: string | null): void {
    const key = noticeKey(n, id);
    if (reported.has(key)) return;
    reported.add(key);
    try {
      opts.onNotice(n);
    } catch (e) {
      log('error', `interruption watcher: onNotice threw: ${(e as Error).message}`);
    }
  }

  async function poll(): Promise<InterruptionNotice | null> {
    const found: { notice: InterruptionNotice; id: string | null }[] = [];
    let failed = false;
    const checks: (() => Promise<{ notice: InterruptionNotice; id: string | null }[]>)[] = [
      async () => (await checkSpot()).map((notice) => ({ notice, id: null })),
      checkEvents,
    ];
    let unreachable: string | null = null;
    for (const check of checks) {
      try {
        found.push(...(await check()));
      } catch (e) {
        if (e instanceof StoppedError) return null;
        if (e instanceof UnreachableError) {
          unreachable = e.message;
          break; // the next check would only wait for the same timeout
        }
        failed = true;
        reportError((e as Error).message);
      }
    }
    if (stopped) return null;
    if (unreachable !== null) setStatus('unreachable', unreachable);
    else setStatus('reachable');
    if (!failed && unreachable === null) lastError = null;
    for (const { notice, id } of found) announce(notice, id);
    return found[0]?.notice ?? null;
  }

  function runPoll(): Promise<InterruptionNotice | null> {
    if (inflight) return inflight;
    const p = poll()
      .catch((e: unknown) => {
        log('error', `interruption watcher: poll failed: ${(e as Error)?.message ?? String(e)}`);
        return null;
      })
      .finally(() => {
        if (inflight === p) inflight = null;
      });
    inflight = p;
    return p;
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      void runPoll().then(() => schedule(status === 'unreachable' ? slowIntervalMs : intervalMs));
    }, ms);
    // The watcher must never keep a process alive on its own.
    timer.unref();
  }

  schedule(0);

  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      stopCtl.abort();
      await inflight;
    },
    pollOnce() {
      return stopped ? Promise.resolve(null) : runPoll();
    },
  };
}

// Keeps the training service process alive for Electron main: spawns it, reports its state
// (the `service.state` event the renderer shows), restarts it with exponential backoff when it
// dies, and can let go of it so it keeps training after the window closes. Plain Node (no
// Electron import), so it is tested against real child processes.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_BACKOFF, decideRestart, type BackoffOptions } from './backoff';

export type SupervisedState = 'starting' | 'ready' | 'restarting' | 'failed';

export interface StateDetail {
  pid?: number;
  exitCode?: number | null;
  signal?: NodeJS.Signals | null;
  /** restart number within the current crash streak (1 = first restart) */
  attempt?: number;
  delayMs?: number;
}

export interface SupervisorOptions {
  command: string;
  args: readonly string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** start the child in its own process group so it can outlive main */
  detached?: boolean;
  /** append the child's stdout/stderr to this file; null → pipe them to onOutput */
  logFile?: string | null;
  backoff?: Partial<BackoffOptions>;
  /** called on every state change with a message for people */
  onState?(state: SupervisedState, message: string | null, detail: StateDetail): void;
  /**
   * Called for each spawned child (attach the IPC client here). The child counts as `ready`
   * when the returned promise resolves; a rejection kills it (and the crash policy applies).
   */
  onSpawn?(child: ChildProcess): void | Promise<void>;
  onOutput?(line: string, stream: 'stdout' | 'stderr'): void;
}

export interface Supervisor {
  start(): void;
  /** SIGTERM the child (the service checkpoints and closes its DB), SIGKILL after `graceMs` */
  stop(graceMs?: number): Promise<void>;
  /** stop supervising but leave the child running; returns its pid */
  detach(): number | null;
  readonly child: ChildProcess | null;
  readonly state: SupervisedState | 'stopped' | 'detached' | 'idle';
  readonly spawnCount: number;
}

export function createSupervisor(opts: SupervisorOptions): Supervisor {
  const policy: BackoffOptions = { ...DEFAULT_BACKOFF, ...opts.backoff };
  let child: ChildProcess | null = null;
  let state: Supervisor['state'] = 'idle';
  let streak = 0;
  let timer: NodeJS.Timeout | null = null;
  let spawnCount = 0;

  const setState = (s: SupervisedState, message: string | null, detail: StateDetail = {}): void => {
    state = s;
    opts.onState?.(s, message, detail);
  };
  const active = (): boolean => state !== 'stopped' && state !== 'detached';

  function pipeLines(stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        opts.onOutput?.(buf.slice(0, i), name);
        buf = buf.slice(i + 1);
      }
    });
    stream.on('end', () => {
      if (buf) opts.onOutput?.(buf, name);
      buf = '';
    });
  }

  function spawnChild(): void {
    timer = null;
    if (!active()) return;
    setState('starting', null);
    let stdio: ('ignore' | 'pipe' | 'ipc' | number)[];
    let logFd: number | null = null;
    if (opts.logFile) {
      fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
      logFd = fs.openSync(opts.logFile, 'a');
      stdio = ['ignore', logFd, logFd, 'ipc'];
    } else {
      stdio = ['ignore', 'pipe', 'pipe', 'ipc'];
    }
    const startedAt = Date.now();
    const c = spawn(opts.command, [...opts.args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio, detached: opts.detached ?? false, windowsHide: true });
    if (logFd !== null) fs.closeSync(logFd); // the child holds its own copy
    child = c;
    spawnCount++;
    pipeLines(c.stdout, 'stdout');
    pipeLines(c.stderr, 'stderr');

    let exited = false;
    const onGone = (exitCode: number | null, signal: NodeJS.Signals | null, why: string): void => {
      if (exited) return;
      exited = true;
      if (child === c) child = null;
      if (!active()) return;
      const uptime = Date.now() - startedAt;
      const { decision, streak: next } = decideRestart(streak, uptime, policy);
      streak = next;
      if (decision.action === 'give-up') {
        setState(
          'failed',
          `The training service keeps stopping (${why}); gave up after ${decision.crashes} crashes in a row. Check ${opts.logFile ?? 'its output'} and restart the app.`,
          { exitCode, signal },
        );
        return;
      }
      const secs = (decision.delayMs / 1000).toFixed(decision.delayMs < 1000 ? 2 : 1);
      setState(
        'restarting',
        `The training service stopped (${why}); restarting in ${secs} s (attempt ${decision.attempt} of ${policy.maxConsecutiveCrashes}).`,
        {
          exitCode,
          signal,
          attempt: decision.attempt,
          delayMs: decision.delayMs,
        },
      );
      timer = setTimeout(spawnChild, decision.delayMs);
    };
    c.on('error', (err) => onGone(null, null, `could not start ${opts.command}: ${err.message}`));
    c.on('exit', (code, signal) => onGone(code, signal, signal ? `killed by ${signal}` : `exit code ${code}`));
    c.on('spawn', () => {
      Promise.resolve(opts.onSpawn?.(c)).then(
        () => {
          if (child === c && active() && !exited) setState('ready', null, { pid: c.pid });
        },
        (err: unknown) => {
          opts.onOutput?.(`service did not become ready: ${err instanceof Error ? err.message : String(err)}`, 'stderr');
          if (child === c && !exited) c.kill('SIGKILL');
        },
      );
    });
  }

  return {
    start() {
      if (state !== 'idle') throw new Error(`supervisor already ${state}`);
      spawnChild();
    },
    async stop(graceMs = 15_000) {
      if (timer) clearTimeout(timer);
      timer = null;
      state = 'stopped';
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        const kill = setTimeout(() => c.kill('SIGKILL'), graceMs);
        c.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        c.kill('SIGTERM');
      });
    },
    detach() {
      if (timer) clearTimeout(timer);
      timer = null;
      state = 'detached';
      const c = child;
      if (!c) return null;
      if (c.connected) c.disconnect();
      c.stdout?.destroy();
      c.stderr?.destroy();
      c.unref();
      return c.pid ?? null;
    },
    get child() {
      return child;
    },
    get state() {
      return state;
    },
    get spawnCount() {
      return spawnCount;
    },
  };
}

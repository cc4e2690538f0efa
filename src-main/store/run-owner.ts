// One owner per run: whether the process that owns a run is still there, and what a runs row's
// owner columns mean. Readers use it to show a run whose owner is gone as 'interrupted' without
// waiting for a service start to write that status.
//
// On this host the pid itself answers (signal 0 probes without delivering anything; EPERM means
// the process exists but belongs to another user). A process on another host (a shared data
// directory) cannot be probed, so its heartbeat must be recent instead.
import os from 'node:os';
import type { RunOwner } from '../../src-shared/api/schemas';

/** A heartbeat older than this from another host means its owner is gone. */
export const OWNER_HEARTBEAT_STALE_MS = 10 * 60_000;

export interface OwnerProbe {
  pid: number;
  host: string;
  heartbeatAt: string | null;
}

/** true while the owner may still be training the run */
export type OwnerAlive = (owner: OwnerProbe, nowIso: string) => boolean;

export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const defaultOwnerAlive: OwnerAlive = (owner, nowIso) => {
  if (owner.host === os.hostname()) return pidAlive(owner.pid);
  if (owner.heartbeatAt === null) return false;
  const age = Date.parse(nowIso) - Date.parse(owner.heartbeatAt);
  return Number.isFinite(age) && age < OWNER_HEARTBEAT_STALE_MS;
};

/** statuses that need a live owner once one is recorded; with the owner gone they read as 'interrupted' */
export const OWNED_STATUSES: readonly string[] = ['running', 'paused', 'queued'];

/** the owner columns of a runs row (all NULL when nobody holds the run) */
export interface OwnerColumns {
  status: string;
  owner_pid: number | null;
  owner_host: string | null;
  owner_started_at: string | null;
  heartbeat_at: string | null;
}

export function storedOwner(r: OwnerColumns): RunOwner | null {
  if (r.owner_pid === null) return null;
  const startedAt = r.owner_started_at ?? r.heartbeat_at ?? '';
  return { pid: r.owner_pid, host: r.owner_host ?? '', startedAt, heartbeatAt: r.heartbeat_at ?? startedAt };
}

export function ownerIsAlive(r: OwnerColumns, ownerAlive: OwnerAlive, nowIso: string): boolean {
  return r.owner_pid !== null && ownerAlive({ pid: r.owner_pid, host: r.owner_host ?? '', heartbeatAt: r.heartbeat_at }, nowIso);
}

/** the owner is recorded and gone while the run is unfinished: it reads (and markInterrupted writes) 'interrupted' */
export function orphaned(r: OwnerColumns, ownerAlive: OwnerAlive, nowIso: string): boolean {
  return r.owner_pid !== null && OWNED_STATUSES.includes(r.status) && !ownerIsAlive(r, ownerAlive, nowIso);
}

// How Electron main starts the training service: which Node binary and which arguments. Pure.
//
// The service runs under the *system* Node, not Electron's embedded one: native modules
// (better-sqlite3, tfjs-node-gpu) are installed for the system Node's ABI by `npm ci`, and a
// plain Node process can keep training after the Electron window is gone.
import path from 'node:path';
import { gpuEnv } from '../common/gpu-env';

export interface ServiceLaunchOptions {
  /** Node binary; a bare name is looked up on PATH */
  nodePath: string;
  /** out/node/service.cjs */
  serviceBundle: string;
  dbPath: string;
  dataDir: string;
  /** extra flags, e.g. from a settings file (appended last) */
  extraArgs?: readonly string[];
}

export interface LaunchCommand {
  command: string;
  args: string[];
}

/** `node out/node/service.cjs --ipc --db <db> --data-dir <dir>` */
export function serviceLaunchCommand(o: ServiceLaunchOptions): LaunchCommand {
  if (!o.nodePath) throw new Error('service launch: nodePath is empty');
  return {
    command: o.nodePath,
    args: [path.resolve(o.serviceBundle), '--ipc', '--db', path.resolve(o.dbPath), '--data-dir', path.resolve(o.dataDir), ...(o.extraArgs ?? [])],
  };
}

/**
 * The Node binary for the service: an explicit setting wins, then $WORKSTATION_NODE, then `node`
 * on PATH. Never Electron's own executable (see the header).
 */
export function resolveServiceNode(setting: string | null | undefined, env: Readonly<Record<string, string | undefined>>): string {
  const pick = (setting ?? '').trim() || (env.WORKSTATION_NODE ?? '').trim();
  return pick || 'node';
}

/** Where the detached service writes stdout/stderr (a pipe would break once main exits). */
export function serviceLogPath(dataDir: string): string {
  return path.join(dataDir, 'logs', 'service.log');
}

/**
 * The service's environment: `base` plus the CUDA JIT cache under the data dir (gpu-env.ts), unless
 * the user set those variables. The service sets them too; passing them at spawn means they are in
 * place before its first line runs.
 */
export function serviceLaunchEnv(base: NodeJS.ProcessEnv, dataDir: string): NodeJS.ProcessEnv {
  return { ...base, ...gpuEnv(base, dataDir) };
}

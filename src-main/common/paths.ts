// Where things live on disk. Pure functions: entry points pass in env/platform, library code
// never reads the environment itself.
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

/** The checkout / install root (the folder holding package.json and out/). */
export function packageRoot(): string {
  let dir = typeof __dirname !== 'undefined' ? __dirname : process.cwd();
  for (let i = 0; i < 8; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src-shared'))) return dir;
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'out'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return process.cwd();
}

/**
 * The app's data directory (database, checkpoints, demo dataset, index caches), shared by the
 * Electron app, `serve` and the CLI: $WORKSTATION_HOME, else $XDG_CONFIG_HOME/imagenet-workstation
 * (~/.config/… on Linux), ~/Library/Application Support/… on macOS, %APPDATA%\… on Windows.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (env.WORKSTATION_HOME) return path.resolve(env.WORKSTATION_HOME);
  const name = 'imagenet-workstation';
  if (platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', name);
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), name);
  return path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), name);
}

export interface AppPaths {
  dataDir: string;
  dbPath: string;
  runsDir: string;
  demoDatasetDir: string;
  cacheDir: string;
}

export function appPaths(dataDir: string, dbPath?: string): AppPaths {
  return {
    dataDir,
    dbPath: dbPath ? path.resolve(dbPath) : path.join(dataDir, 'workstation.db'),
    runsDir: path.join(dataDir, 'runs'),
    demoDatasetDir: path.join(dataDir, 'demo-dataset'),
    cacheDir: path.join(dataDir, 'cache'),
  };
}

/** Bundled node entry (out/node/<name>.cjs), e.g. the decode worker or the service process. */
export function nodeBundlePath(name: string): string {
  return path.join(packageRoot(), 'out', 'node', `${name}.cjs`);
}

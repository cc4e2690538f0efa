// Maps app://renderer/<path> to a file of the built renderer. Pure (path checks only), so the
// guard is unit-tested; security.ts registers the protocol handler. The traversal guard and the
// MIME table are the ones `workstation serve` uses (common/static-files.ts).
import path from 'node:path';
import { resolveInside } from '../common/static-files';
import { APP_HOST, APP_SCHEME } from './csp';

/** The file an app:// URL names inside `rendererDir`, or null (other host, outside the folder). */
export function resolveAppFile(rendererDir: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  const file = resolveInside(rendererDir, u.pathname === '/' || u.pathname === '' ? '/index.html' : u.pathname);
  // the folder itself is not a file (`/` names the index explicitly above)
  return file === path.resolve(rendererDir) ? null : file;
}

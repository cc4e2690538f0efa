// Serving the built renderer from a folder: the one MIME table and the one path guard, shared by
// Electron's app:// protocol and the HTTP server behind `workstation serve`, so the two cannot
// drift apart. Pure path arithmetic (no file system access): containment is lexical, and the
// renderer folder is our own build output, so a link inside it is served as named.
import path from 'node:path';

const STATIC_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

/** The Content-Type for a static file, by extension; unknown ones are plain bytes. */
export function staticContentType(file: string): string {
  return STATIC_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

/** True for a path that names a place on its own: `/x`, `\x`, `C:x`, `C:\x`, `\\server\share`. */
function isAbsoluteAnywhere(p: string): boolean {
  return p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p) || path.isAbsolute(p) || path.win32.isAbsolute(p);
}

/**
 * The file a URL path (still percent-encoded, e.g. `URL.pathname`) names inside `root`, or null
 * when it must not be served: undecodable escapes, a NUL byte, an absolute path after the leading
 * slash (`//etc/passwd`, `/C:/…`), or a `..` that leaves the folder, written plainly or encoded
 * (`%2e%2e`, `..%2f`). `/` (and any path that resolves to `root`) answers `root` itself; the
 * caller picks its index file.
 */
export function resolveInside(root: string, requestPath: string): string | null {
  let rel: string;
  try {
    rel = decodeURIComponent(requestPath);
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  if (rel.startsWith('/')) rel = rel.slice(1);
  if (isAbsoluteAnywhere(rel)) return null;
  const base = path.resolve(root);
  const file = path.resolve(base, rel);
  if (file === base) return base;
  return file.startsWith(base.endsWith(path.sep) ? base : base + path.sep) ? file : null;
}

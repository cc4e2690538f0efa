// Guards for the headless server (`workstation serve`): a random bearer token (URL once, then an
// HttpOnly SameSite=Strict cookie), Host/Origin checks against DNS rebinding and cross-site
// pages, and a path allow-list so file endpoints only serve images inside dataset roots.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'workstation_token';
const IMAGE_TYPES: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.bmp': 'image/bmp',
};

export function createToken(): string {
  return crypto.randomBytes(24).toString('base64url');
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
export function tokenMatches(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    try {
      out[k] = decodeURIComponent(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/**
 * The token a request carries: `?token=` (first visit, scripts), the cookie set afterwards, or an
 * `Authorization: Bearer` header (train_ddp.py's live reports: no token in a URL that may be logged).
 */
export function requestToken(req: IncomingMessage, url: URL): string | null {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
  return url.searchParams.get('token') ?? bearer ?? parseCookies(req.headers.cookie)[TOKEN_COOKIE] ?? null;
}

export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`;
}

export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/**
 * Host header values this server answers to: the bound host:port and localhost:port. A server
 * bound to a wildcard address with --allow-remote accepts any Host (the token still guards it).
 */
export function createHostCheck(boundHost: string, port: number): (hostHeader: string | undefined) => boolean {
  const wildcard = boundHost === '0.0.0.0' || boundHost === '::' || boundHost === '';
  const bracket = boundHost.includes(':') && !boundHost.startsWith('[') ? `[${boundHost}]` : boundHost;
  const allowed = new Set([`${bracket}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`].map((h) => h.toLowerCase()));
  return (hostHeader) => {
    if (!hostHeader) return false;
    if (wildcard) return true;
    return allowed.has(hostHeader.toLowerCase());
  };
}

/** Origin, when a browser sends one, must be this very server (same scheme, host and port). */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true;
  if (!hostHeader) return false;
  return origin.toLowerCase() === `http://${hostHeader.toLowerCase()}`;
}

export function imageContentType(file: string): string | null {
  return IMAGE_TYPES[path.extname(file).toLowerCase()] ?? null;
}

/**
 * Is `file` lexically inside one of `roots` (after resolving `..`)? Symlinks inside a dataset root
 * are the user's own dataset layout (e.g. trees of links to shared storage), so containment is
 * checked on the path as named, not on its link target.
 */
export function isInsideRoots(file: string, roots: Iterable<string>): boolean {
  if (!path.isAbsolute(file) || file.includes('\0')) return false;
  const abs = path.resolve(file);
  for (const r of roots) {
    const root = path.resolve(r);
    if (abs === root || abs.startsWith(root.endsWith(path.sep) ? root : root + path.sep)) return true;
  }
  return false;
}

/** An image file inside the allow-list, or null (the caller answers 403 / UNAUTHORIZED). */
export function allowedImagePath(file: string, roots: Iterable<string>): string | null {
  if (!isInsideRoots(file, roots) || imageContentType(file) === null) return null;
  try {
    if (!fs.statSync(file).isFile()) return null;
  } catch {
    return null;
  }
  return path.resolve(file);
}

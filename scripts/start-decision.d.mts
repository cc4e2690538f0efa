// Types for start-decision.mjs (imported by the unit tests).
export function electronAvailability(o: {
  root: string;
  platform: string;
  env: Record<string, string | undefined>;
  forceServe?: boolean;
}): { ok: true; binary: string } | { ok: false; reasons: string[]; download: string | null };
export function electronBinary(root: string, env: Record<string, string | undefined>): { path: string | null; why: string; installer: string | null };
export const BUILD_TARGETS: Record<'node' | 'renderer' | 'electron', { outputs: string[]; sources: string[]; flag: string }>;
export function staleTargets(root: string, mode: 'electron' | 'serve'): { target: 'node' | 'renderer' | 'electron'; why: string }[];
export function buildFlags(stale: { target: string }[]): string[];
export function fallbackMessage(reasons: string[]): string;
export function parseStartArgs(argv: string[], env: Record<string, string | undefined>): { forceServe: boolean; passthrough: string[] };

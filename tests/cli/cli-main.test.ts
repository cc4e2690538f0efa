// The `workstation` entry itself, through the real bundle: a reader that closes the pipe early
// (`workstation … | head`) ends the command quietly instead of with an EPIPE stack trace.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = path.resolve(__dirname, '../../bin/workstation.cjs');

describe('workstation CLI entry', () => {
  it('exits 0 without a stack trace when stdout is closed early', async () => {
    // 200k steps of JSON is megabytes of output: far more than a pipe buffer holds
    const child = spawn(process.execPath, [BIN, 'schedule', '--policy', 'onecycle', '--max-lr', '0.01', '--total-steps', '200000', '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let first = '';
    await new Promise<void>((resolve) =>
      child.stdout.once('data', (d: Buffer) => {
        first = d.toString();
        child.stdout.destroy(); // like `head` exiting after its lines
        resolve();
      }),
    );
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(first.startsWith('{')).toBe(true);
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });
});

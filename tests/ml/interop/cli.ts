// Runs the `workstation` CLI in this process (as bin/workstation.cjs would), capturing its output.
import path from 'node:path';
import { main } from '../../../src-main/cli/main';

export async function cli(argv: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    cwd,
    env: { ...process.env, WORKSTATION_HOME: path.join(cwd, 'home') },
    signal: new AbortController().signal,
  });
  return { code, stdout, stderr };
}

// The `workstation` entry itself, through the real bin/workstation.cjs: a reader that closes the
// pipe early (`workstation … | head`) ends the command quietly instead of with an EPIPE stack
// trace; --version, --help grouped by task, `help <command>` (the same text as `<command> --help`);
// and tfjs's "install our node backend" banner never reaches a user of `workstation train`.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/samples';
import { tinyConfig } from '../service/tiny-config';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/workstation.cjs');

function workstation(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? tempDir('ws-cli-main-'),
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The command names `workstation --help` lists under each heading, in order. */
function helpGroups(text: string): { title: string; commands: string[] }[] {
  const groups: { title: string; commands: string[] }[] = [];
  for (const line of text.split('\n')) {
    const heading = /^(\S.*):$/.exec(line);
    if (heading) groups.push({ title: heading[1], commands: [] });
    else if (groups.length > 0 && /^ {2}\S/.test(line)) groups.at(-1)!.commands.push(line.trim().split(/\s{2,}/)[0]);
  }
  return groups;
}

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

  it('--version prints the package version', () => {
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = workstation(['--version']);
    expect(r).toEqual({ code: 0, stdout: `workstation ${version}\n`, stderr: '' });
  });

  it('--help lists the commands by task: training and runs first, then the tools, each command once', () => {
    const r = workstation(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^usage: workstation <command> \[flags\]\n.*workstation help <command>.*\n.*workstation --version\n/);
    const groups = helpGroups(r.stdout);
    expect(groups.map((g) => g.title)).toEqual(['Train and manage runs', 'Data, model, benchmark and setup tools']);
    expect(groups[0].commands.slice(0, 5)).toEqual(['train', 'resume', 'serve', 'runs', 'export-csv']);
    const tools = groups[1].commands;
    for (const c of ['data index', 'augment preview', 'model summary', 'checkpoint inspect', 'bench data', 'bench engine', 'doctor'])
      expect(tools).toContain(c);
    expect(tools.indexOf('data index')).toBeLessThan(tools.indexOf('model summary'));
    expect(tools.indexOf('model summary')).toBeLessThan(tools.indexOf('bench engine'));
    expect(tools.at(-1)).toBe('doctor');
    const all = groups.flatMap((g) => g.commands);
    expect(new Set(all).size).toBe(all.length);
    // the bare command and `help` print the same
    expect(workstation([]).stdout).toBe(r.stdout);
    expect(workstation(['help']).stdout).toBe(r.stdout);
  });

  it('`help <command>` prints exactly `<command> --help`; an unknown one is exit 2 with the list', () => {
    for (const cmd of [['runs'], ['data', 'index'], ['train']]) {
      const viaHelp = workstation(['help', ...cmd]);
      const viaFlag = workstation([...cmd, '--help']);
      expect(viaHelp.code, cmd.join(' ')).toBe(0);
      expect(viaHelp.stdout, cmd.join(' ')).toBe(viaFlag.stdout);
      expect(viaHelp.stdout.startsWith(`usage: workstation ${cmd.join(' ')}`)).toBe(true);
    }
    const runs = workstation(['help', 'runs']).stdout;
    expect(runs).toMatch(/\n {2}--json {2,}print the runs as JSON/);
    expect(runs).toMatch(/\n {2}--db {2,}SQLite database file/);
    // descriptions start in one column, even after a flag longer than the usual width
    const train = workstation(['help', 'train']).stdout;
    const starts = train
      .split('\n')
      .filter((l) => l.startsWith('  --'))
      .map((l) => l.search(/(?<=^ {2}--\S+ +)\S/));
    expect(starts.length).toBeGreaterThan(5);
    expect(new Set(starts).size).toBe(1);
    // help runs nothing: no database was created by `help runs` in its data dir
    const home = tempDir('ws-cli-home-');
    expect(workstation(['help', 'runs'], { env: { WORKSTATION_HOME: home } }).code).toBe(0);
    expect(fs.readdirSync(home)).toEqual([]);

    const unknown = workstation(['help', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toMatch(/^workstation: unknown command "nope"\n\nusage: workstation/);
  });

  it("a real `workstation train` (pure-JS cpu tfjs) never prints tfjs's install-our-node-backend banner", () => {
    // the condition: plain tfjs in Node prints it on the cpu backend's first tensor
    const plain = spawnSync(process.execPath, ['-e', "const tf = require('@tensorflow/tfjs'); tf.setBackend('cpu'); tf.tensor([1]).dataSync();"], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(plain.stderr + plain.stdout).toMatch(/looks like you are running TensorFlow\.js in Node\.js/);

    const dir = tempDir('ws-cli-banner-');
    fs.writeFileSync(path.join(dir, 'tiny.json'), JSON.stringify(tinyConfig({ name: 'banner', epochs: 1, steps: 2 })));
    const r = workstation(['train', '--config', 'tiny.json', '--db', path.join(dir, 'ws.db'), '--data-dir', path.join(dir, 'data')], {
      cwd: dir,
      env: { WORKSTATION_HOME: path.join(dir, 'home') },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/run 1 \(banner\) completed/);
    expect(r.stdout).toMatch(/backend: cpu/); // the backend that prints the banner
    expect(r.stderr).toMatch(/epoch 1\/1 train step 2\/2/); // tensors were written and trained
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.toMatch(/looks like you are running TensorFlow\.js|install our node backend|={20,}/);
    }
  });
});

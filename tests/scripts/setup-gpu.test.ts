// The GPU scripts without a GPU: scripts/ec2/setup-gpu.sh in --dry-run prints, per GPU family (forced
// with --gpu or read from a stand-in nvidia-smi), the CUDA 11.8 + cuDNN 8.9 (CUDA 11 build) install,
// the ldconfig / LD_LIBRARY_PATH lines and the CUDA JIT cache settings, and changes nothing; its
// check mode holds the driver to >= 525.60.13. scripts/gpu/use-libtensorflow-2.18.sh writes
// custom-binary.json, removes the old library and rebuilds the binding, gated by the self-test (stand-in
// npm and workstation in a copy of the layout). scripts/gpu/measure.sh is syntax-checked with bash -n
// and run against a stand-in workstation: one JSON file with every step. shellcheck, where installed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/samples';

const ROOT = path.resolve(__dirname, '../..');
const SETUP = path.join(ROOT, 'scripts/ec2/setup-gpu.sh');
const MEASURE = path.join(ROOT, 'scripts/gpu/measure.sh');
const USE_218 = path.join(ROOT, 'scripts/gpu/use-libtensorflow-2.18.sh');
const URL_218 = 'https://storage.googleapis.com/tensorflow/versions/2.18.0/libtensorflow-gpu-linux-x86_64.tar.gz';

/** A folder with executables (`name` → shell body), to put first on PATH. */
function standIns(tools: Record<string, string>): string {
  const dir = tempDir('stand-in-');
  for (const [name, body] of Object.entries(tools)) fs.writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return dir;
}

/** A stand-in nvidia-smi answering the two queries setup-gpu.sh makes. */
const smi = (name: string, driver: string) =>
  standIns({ 'nvidia-smi': `case "$*" in *name*) echo "${name}" ;; *driver_version*) echo "${driver}" ;; *) echo "NVIDIA-SMI ${driver}" ;; esac` });

/** What a machine without a working GPU driver has: an nvidia-smi that fails (hides this machine's own). */
const NO_GPU = standIns({ 'nvidia-smi': 'echo "NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver" >&2; exit 9' });

function bash(script: string, args: string[], opts: { env?: NodeJS.ProcessEnv; pathFirst?: string; cwd?: string } = {}) {
  const env = { ...process.env, ...opts.env };
  env.PATH = [opts.pathFirst ?? NO_GPU, env.PATH ?? ''].join(path.delimiter);
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', env, cwd: opts.cwd ?? ROOT, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dryRun = (args: string[], opts: { pathFirst?: string } = {}) => {
  const home = tempDir('setup-home-');
  const cache = path.join(home, 'data-disk', 'cuda-cache');
  const r = bash(SETUP, ['--dry-run', '--cache-dir', cache, ...args], { env: { HOME: home, WORKSTATION_HOME: '' }, ...opts });
  return { ...r, cache, home, commands: r.out.split('\n').filter((l) => l.startsWith('+ ')) };
};

describe('scripts/ec2/setup-gpu.sh --dry-run', () => {
  it.each(['a10g', 'l4', 'a100', 'h100'])('%s (apt, Ubuntu 22.04): CUDA 11.8 libraries + cuDNN 8.9 for CUDA 11, ldconfig, cache', (gpu) => {
    const r = dryRun(['--gpu', gpu, '--ubuntu', '22.04']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`GPU family: ${gpu} (--gpu)`);
    expect(r.commands).toEqual(
      expect.arrayContaining([
        '+ wget -q -O /tmp/cuda-keyring_1.1-1_all.deb https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2204/x86_64/cuda-keyring_1.1-1_all.deb',
        '+ sudo dpkg -i /tmp/cuda-keyring_1.1-1_all.deb',
        '+ sudo apt-get update',
        '+ sudo apt-get install -y --no-install-recommends cuda-libraries-11-8 libcudnn8=8.9.7.29-1+cuda11.8',
        '+ sudo apt-mark hold libcudnn8',
        '+ echo /usr/local/cuda-11.8/lib64 | sudo tee /etc/ld.so.conf.d/cuda-11-8.conf >/dev/null',
        '+ sudo ldconfig',
        `+ mkdir -p ${r.cache}`,
      ]),
    );
    // the environment: loader path, JIT cache on the data disk, 4 GiB
    expect(r.out).toContain('  export LD_LIBRARY_PATH=/usr/local/cuda-11.8/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}');
    expect(r.out).toContain(`  export CUDA_CACHE_PATH=\${CUDA_CACHE_PATH:-${r.cache}}`);
    expect(r.out).toContain('  export CUDA_CACHE_MAXSIZE=${CUDA_CACHE_MAXSIZE:-4294967296}');
    const profile = r.commands.find((c) => c.includes('/etc/profile.d/imagenet-workstation-gpu.sh'))!;
    expect(profile).toContain(`'export CUDA_CACHE_PATH=\${CUDA_CACHE_PATH:-${r.cache}}'`);
    expect(profile).toContain("'export CUDA_CACHE_MAXSIZE=${CUDA_CACHE_MAXSIZE:-4294967296}'");
    expect(r.out).toContain('driver >= 525.60.13');
    // not the old set, no driver packages, no CUDA 12 libraries under CUDA 11 names
    expect(r.out).not.toMatch(/11-2|11\.2|cuda11\.2|8\.1\.1/);
    expect(r.out).not.toMatch(/cuda-drivers|cuda-runtime-11|nvidia-driver-/);
    expect(r.commands.some((c) => /ln -s\S* .*libcu/.test(c))).toBe(false);
    // NVSwitch machines need the fabric manager; the others do not
    expect(r.commands.some((c) => c.includes('nvidia-fabricmanager'))).toBe(gpu === 'a100' || gpu === 'h100');
    // nothing was changed
    expect(fs.existsSync(r.cache)).toBe(false);
  });

  it('H100 and L4 are told about the one-time PTX JIT; the cache path comes from WORKSTATION_HOME by default', () => {
    expect(dryRun(['--gpu', 'h100', '--ubuntu', '22.04']).out).toMatch(/first start JIT-compiles TF 2\.9's kernels from compute_80 PTX/);
    expect(dryRun(['--gpu', 'l4', '--ubuntu', '22.04']).out).toMatch(/compute_80 PTX/);
    const home = tempDir('ws-home-');
    const r = bash(SETUP, ['--dry-run', '--gpu', 'a10g', '--ubuntu', '22.04'], { env: { WORKSTATION_HOME: home, CUDA_CACHE_PATH: '' } });
    expect(r.out).toContain(`+ mkdir -p ${path.join(home, 'cuda-cache')}`);
  });

  it('Ubuntu 20.04 uses its own repository', () => {
    const r = dryRun(['--gpu', 'a10g', '--ubuntu', '20.04']);
    expect(r.commands[0]).toBe(
      '+ wget -q -O /tmp/cuda-keyring_1.1-1_all.deb https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2004/x86_64/cuda-keyring_1.1-1_all.deb',
    );
  });

  it('tarball route (other distros): the CUDA 11.8 runfile, toolkit only, and the cuDNN 8.9 CUDA 11 archive', () => {
    const r = dryRun(['--gpu', 'l4', '--method', 'tarball']);
    expect(r.code, r.err).toBe(0);
    expect(r.commands).toEqual(
      expect.arrayContaining([
        '+ wget -q -O /tmp/cuda_11.8.0_linux.run https://developer.download.nvidia.com/compute/cuda/11.8.0/local_installers/cuda_11.8.0_520.61.05_linux.run',
        '+ wget -q -O /tmp/cudnn-linux-x86_64-8.9.7.29_cuda11-archive.tar.xz https://developer.download.nvidia.com/compute/cudnn/redist/cudnn/linux-x86_64/cudnn-linux-x86_64-8.9.7.29_cuda11-archive.tar.xz',
        '+ echo /usr/local/cuda-11.8/lib64 | sudo tee /etc/ld.so.conf.d/cuda-11-8.conf >/dev/null',
        '+ sudo ldconfig',
      ]),
    );
    const runfile = r.commands.find((c) => c.includes('cuda_11.8.0_linux.run --silent'))!;
    expect(runfile).toContain('--toolkit --toolkitpath=/usr/local/cuda-11.8');
    expect(runfile).not.toContain('--driver');
    expect(runfile).toContain('ln -sfn "$prev" /usr/local/cuda'); // the CUDA 12 toolkit link stays
    expect(r.out).not.toContain('apt-get');
  });

  it.each([
    ['NVIDIA H100 80GB HBM3', 'h100', true],
    ['NVIDIA A100-SXM4-40GB', 'a100', true],
    ['NVIDIA A10G', 'a10g', false],
    ['NVIDIA L4', 'l4', false],
    ['NVIDIA L40S', 'l4', false],
  ])('reads the family from nvidia-smi: %s → %s', (name, family, fabric) => {
    const r = dryRun(['--ubuntu', '22.04'], { pathFirst: smi(name, '550.54.15') });
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`GPU family: ${family} (nvidia-smi)`);
    if (fabric) expect(r.commands.join('\n')).toContain('nvidia-fabricmanager-550'); // matches the driver's major version
  });

  it('without a GPU or --gpu it still prints the (same) install, and says the family is unknown', () => {
    const r = dryRun(['--ubuntu', '22.04']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('GPU family: unknown');
    expect(r.commands.join('\n')).toContain('libcudnn8=8.9.7.29-1+cuda11.8');
  });

  it('refuses what it does not know, exit 2', () => {
    expect(dryRun(['--gpu', 'v100']).code).toBe(2);
    expect(dryRun(['--cudnn', '8.1.1.33']).code).toBe(2);
    expect(dryRun(['--method', 'apt', '--ubuntu', '24.04']).code).toBe(2);
    expect(dryRun(['--bogus']).code).toBe(2);
    expect(dryRun(['--cudnn', '8.9.6.50', '--gpu', 'l4', '--ubuntu', '22.04']).out).toContain('libcudnn8=8.9.6.50-1+cuda11.8');
  });
});

describe('scripts/ec2/setup-gpu.sh check', () => {
  it('holds the driver to >= 525.60.13 and names what is missing (exit 1)', () => {
    const old = bash(SETUP, [], { pathFirst: smi('NVIDIA A10G', '470.57.02') });
    expect(old.code).toBe(1);
    expect(old.out).toContain('MISSING NVIDIA driver 470.57.02 is older than 525.60.13');
    const ok = bash(SETUP, [], { pathFirst: smi('NVIDIA A10G', '525.60.13') });
    expect(ok.out).toContain('ok      NVIDIA driver 525.60.13 (NVIDIA A10G; family a10g)');
    const none = bash(SETUP, []);
    expect(none.out).toContain('MISSING NVIDIA driver: nvidia-smi not found');
    // the CUDA 11 sonames libtensorflow 2.9 loads (found on this machine or not)
    for (const lib of [
      'libcudart.so.11.0',
      'libcublas.so.11',
      'libcublasLt.so.11',
      'libcufft.so.10',
      'libcurand.so.10',
      'libcusolver.so.11',
      'libcusparse.so.11',
      'libcudnn.so.8',
    ])
      expect(none.out).toContain(lib);
  });
});

describe('scripts/gpu/use-libtensorflow-2.18.sh', () => {
  it('--dry-run prints the custom-binary.json, the rebuild and the self-test gate, and changes nothing', () => {
    const r = bash(USE_218, ['--dry-run']);
    expect(r.code, r.err).toBe(0);
    const custom = path.join(ROOT, 'node_modules/@tensorflow/tfjs-node-gpu/scripts/custom-binary.json');
    expect(r.out).toContain('OPT-IN, UNPROVEN');
    expect(r.out).toContain(`+ write ${custom}: ${JSON.stringify({ 'tf-lib': URL_218 })}`);
    expect(r.out).toContain(`+ rm -rf ${path.join(ROOT, 'node_modules/@tensorflow/tfjs-node-gpu/deps')}`);
    expect(r.out).toContain('+ npm rebuild @tensorflow/tfjs-node-gpu --build-addon-from-source');
    expect(r.out).toMatch(/\+ node \S+bin\/workstation\.cjs doctor --selftest --backend gpu/);
    expect(fs.existsSync(custom)).toBe(false);
  });

  /** a copy of the script in a fake checkout with tfjs-node-gpu "installed", stand-in npm + workstation */
  function fakeCheckout(selftestCode: number) {
    const root = tempDir('use218-');
    fs.mkdirSync(path.join(root, 'scripts/gpu'), { recursive: true });
    fs.copyFileSync(USE_218, path.join(root, 'scripts/gpu/use.sh'));
    const pkg = path.join(root, 'node_modules/@tensorflow/tfjs-node-gpu');
    fs.mkdirSync(path.join(pkg, 'scripts'), { recursive: true });
    fs.mkdirSync(path.join(pkg, 'deps/lib'), { recursive: true });
    fs.writeFileSync(path.join(pkg, 'deps/lib/libtensorflow.so'), 'libtensorflow 2.9.1');
    const log = path.join(root, 'calls.log');
    const bin = standIns({
      npm: `echo "npm $* (in $(pwd))" >> '${log}'`,
      python3: 'exit 0',
      make: 'exit 0',
      'g++': 'exit 0',
      workstation: `echo "workstation $*" >> '${log}'; exit ${selftestCode}`,
    });
    const run = (args: string[]) => bash(path.join(root, 'scripts/gpu/use.sh'), args, { pathFirst: bin, env: { WORKSTATION: path.join(bin, 'workstation') } });
    return { root, pkg, run, calls: () => fs.readFileSync(log, 'utf8').trim().split('\n') };
  }

  it('writes {"tf-lib": <2.18 URL>}, removes the old library, rebuilds from source, then runs the self-test', () => {
    const f = fakeCheckout(0);
    const r = f.run([]);
    expect(r.code, r.err + r.out).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(f.pkg, 'scripts/custom-binary.json'), 'utf8'))).toEqual({ 'tf-lib': URL_218 });
    expect(fs.existsSync(path.join(f.pkg, 'deps'))).toBe(false);
    expect(f.calls()).toEqual([
      `npm rebuild @tensorflow/tfjs-node-gpu --build-addon-from-source (in ${f.root})`,
      'workstation doctor --selftest --backend gpu',
    ]);

    // --revert: back to the stock 2.9.1 (no custom file, the prebuilt addon)
    const back = f.run(['--revert', '--no-selftest']);
    expect(back.code, back.err).toBe(0);
    expect(fs.existsSync(path.join(f.pkg, 'scripts/custom-binary.json'))).toBe(false);
    expect(f.calls().at(-1)).toBe(`npm rebuild @tensorflow/tfjs-node-gpu (in ${f.root})`);
  });

  it('a failing self-test fails the script and says how to go back; an earlier custom-binary.json is kept as .bak', () => {
    const f = fakeCheckout(1);
    fs.writeFileSync(path.join(f.pkg, 'scripts/custom-binary.json'), '{"tf-lib": "https://mirror/lib.tar.gz"}\n');
    const r = f.run([]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('the GPU self-test failed');
    expect(r.err).toContain('--revert');
    expect(fs.readFileSync(path.join(f.pkg, 'scripts/custom-binary.json.bak'), 'utf8')).toContain('https://mirror/lib.tar.gz');
    f.run(['--revert', '--no-selftest']);
    expect(fs.readFileSync(path.join(f.pkg, 'scripts/custom-binary.json'), 'utf8')).toContain('https://mirror/lib.tar.gz');
  });
});

describe('scripts/gpu/measure.sh', () => {
  it('is valid bash (bash -n)', () => {
    const r = spawnSync('bash', ['-n', MEASURE], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });

  it('writes one gpu-measure-<host>-<date>.json with doctor, the self-test and bench at batch 64 and 128 (stand-in workstation)', () => {
    const out = tempDir('measure-out-');
    const home = tempDir('measure-home-');
    const ws = standIns({
      workstation: `case "$*" in
  *--selftest*) echo "workstation: unknown flag --selftest" >&2; exit 2 ;;
  doctor*) echo '{"ok":true,"backend":{"name":"tensorflow-gpu"}}' ;;
  bench*) b=$(echo "$*" | sed 's/.*--batch \\([0-9]*\\).*/\\1/'); echo "{\\"batch\\":$b,\\"imagesPerSec\\":100}" ;;
esac`,
    });
    const r = bash(MEASURE, ['--out', out], { env: { WORKSTATION: path.join(ws, 'workstation'), WORKSTATION_HOME: home, CUDA_CACHE_PATH: '' } });
    expect(r.code, r.err).toBe(0);
    const files = fs.readdirSync(out);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^gpu-measure-.+-\d{8}-\d{6}Z\.json$/);
    expect(r.out.trim()).toBe(path.join(out, files[0]));
    const doc = JSON.parse(fs.readFileSync(path.join(out, files[0]), 'utf8'));
    // nvidia-smi is there but fails (no driver): recorded as such, the rest still runs
    expect(doc.steps.map((s: { name: string }) => s.name)).toEqual(['nvidia-smi', 'nvidia-smi-header', 'doctor', 'selftest', 'bench-b64', 'bench-b128']);
    expect(doc.steps[0]).toMatchObject({ exitCode: 9, json: null });
    expect(doc.driverCuda).toBeNull();
    doc.steps = doc.steps.slice(2);
    expect(doc.steps[0]).toMatchObject({ exitCode: 0, json: { backend: { name: 'tensorflow-gpu' } } });
    expect(doc.steps[0].command).toMatch(/doctor --backend gpu --json$/);
    // a step that fails is recorded and the others still run
    expect(doc.steps[1]).toMatchObject({ exitCode: 2, json: null });
    expect(doc.steps[1].stderr).toContain('unknown flag --selftest');
    expect(doc.steps[1].command).toMatch(/doctor --selftest --backend gpu --json$/);
    expect(doc.steps[2].command).toMatch(/bench engine --backend gpu --batch 64 --size 224 --width 1 --steps 20 --warmup 3 --json$/);
    expect(doc.bench).toEqual([
      { batch: 64, ok: true, result: { batch: 64, imagesPerSec: 100 } },
      { batch: 128, ok: true, result: { batch: 128, imagesPerSec: 100 } },
    ]);
    expect(doc.env).toMatchObject({ CUDA_CACHE_PATH: path.join(home, 'cuda-cache'), CUDA_CACHE_MAXSIZE: '4294967296' });
  });
});

describe('shellcheck', () => {
  // .ci/run installs Debian's shellcheck
  it('finds nothing in the GPU scripts', () => {
    const r = spawnSync('shellcheck', [SETUP, MEASURE, USE_218], { encoding: 'utf8' });
    expect(r.status, r.stdout).toBe(0);
  });
});

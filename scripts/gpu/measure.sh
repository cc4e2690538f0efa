#!/usr/bin/env bash
# Everything docs/BENCHMARKS.md's GPU table needs, from one command on the GPU machine, into one JSON
# file (gpu-measure-<host>-<date>.json): nvidia-smi's view of the GPUs, the CUDA environment,
# `workstation doctor --json`, `workstation doctor --selftest --json` (the GPU kernels' self-test)
# and `workstation bench engine --json` of full ResNet-50 at 224 px, batch 64 and 128. A step that
# fails is recorded with its exit code and the end of its output, and the next one still runs.
# The CUDA JIT cache is set as the service sets it, so a first start's PTX compilation (minutes
# on Ampere/Ada/Hopper with libtensorflow 2.9) is paid once; each step's wall time is recorded.
#
#   scripts/gpu/measure.sh [--out DIR] [--backend gpu|auto] [--steps 20] [--warmup 3] [--batches "64 128"]
#
# WORKSTATION overrides how the CLI is run (default: node <repo>/bin/workstation.cjs).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="$PWD"
BACKEND=gpu
STEPS=20
WARMUP=3
BATCHES="64 128"
SIZE=224
die() { echo "measure: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || die "--out needs a folder"; OUT_DIR="$2"; shift 2 ;;
    --backend) [ $# -ge 2 ] || die "--backend needs a value"; BACKEND="$2"; shift 2 ;;
    --steps) [ $# -ge 2 ] || die "--steps needs a number"; STEPS="$2"; shift 2 ;;
    --warmup) [ $# -ge 2 ] || die "--warmup needs a number"; WARMUP="$2"; shift 2 ;;
    --batches) [ $# -ge 2 ] || die "--batches needs a list"; BATCHES="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case "$BACKEND" in gpu|auto) ;; *) die "--backend must be gpu or auto, got $BACKEND" ;; esac
for n in $STEPS $WARMUP $BATCHES; do case "$n" in ''|*[!0-9]*) die "not a whole number: $n" ;; esac; done
mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"

# the cache the service uses (src-main/common/gpu-env.ts), unless already set
DATA_HOME="${WORKSTATION_HOME:-$HOME/.config/imagenet-workstation}"
export CUDA_CACHE_PATH="${CUDA_CACHE_PATH:-$DATA_HOME/cuda-cache}"
export CUDA_CACHE_MAXSIZE="${CUDA_CACHE_MAXSIZE:-4294967296}"
mkdir -p "$CUDA_CACHE_PATH" 2>/dev/null || true

read -r -a WS <<<"${WORKSTATION:-node $ROOT/bin/workstation.cjs}"
HOST="$(hostname -s 2>/dev/null || hostname)"
STAMP="$(date -u +%Y%m%d-%H%M%SZ)"
OUT="$OUT_DIR/gpu-measure-$HOST-$STAMP.json"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

N=0
step() { # name, command...
  local name="$1"; shift
  N=$((N + 1))
  local d
  d="$TMP/$(printf '%02d' "$N")"
  mkdir -p "$d"
  printf '%s\n' "$name" >"$d/name"
  printf '%s\n' "$*" >"$d/command"
  echo "measure: $name: $*" >&2
  local t0 t1
  t0="$(date +%s.%N)"
  "$@" >"$d/stdout" 2>"$d/stderr"
  echo $? >"$d/code"
  t1="$(date +%s.%N)"
  echo "$t0 $t1" >"$d/time"
  echo "measure: $name: exit $(cat "$d/code")" >&2
}

if command -v nvidia-smi >/dev/null 2>&1; then
  step nvidia-smi nvidia-smi --query-gpu=index,name,uuid,driver_version,memory.total,memory.used,utilization.gpu,power.draw,temperature.gpu --format=csv,noheader,nounits
  step nvidia-smi-header nvidia-smi
fi
step doctor "${WS[@]}" doctor --backend "$BACKEND" --json
step selftest "${WS[@]}" doctor --selftest --backend "$BACKEND" --json
for b in $BATCHES; do
  step "bench-b$b" "${WS[@]}" bench engine --backend "$BACKEND" --batch "$b" --size "$SIZE" --width 1 --steps "$STEPS" --warmup "$WARMUP" --json
done

node - "$TMP" "$OUT" "$HOST" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const [dir, out, host] = process.argv.slice(2);
const tail = (s, n = 4000) => (s.length > n ? '…' + s.slice(-n) : s);
const steps = fs.readdirSync(dir).sort().map((d) => {
  const read = (f) => fs.readFileSync(path.join(dir, d, f), 'utf8');
  const stdout = read('stdout');
  let json = null;
  try { json = JSON.parse(stdout); } catch { /* not JSON: kept as text */ }
  const [t0, t1] = read('time').trim().split(' ').map(Number);
  return {
    name: read('name').trim(),
    command: read('command').trim(),
    exitCode: Number(read('code')),
    seconds: Math.round((t1 - t0) * 10) / 10,
    json,
    stdout: json === null ? tail(stdout) : undefined,
    stderr: tail(read('stderr')),
  };
});
const env = Object.fromEntries(['CUDA_CACHE_PATH', 'CUDA_CACHE_MAXSIZE', 'LD_LIBRARY_PATH', 'CUDA_VISIBLE_DEVICES', 'TF_DETERMINISTIC_OPS', 'TF_CUDNN_DETERMINISTIC'].map((k) => [k, process.env[k] ?? null]));
const header = steps.find((s) => s.name === 'nvidia-smi-header');
const cuda = header ? (/CUDA Version\s*:\s*(\d+(?:\.\d+)*)/.exec(header.stdout ?? '') ?? [])[1] ?? null : null;
const bench = steps.filter((s) => s.name.startsWith('bench-')).map((s) => ({ batch: Number(s.name.slice(7)), ok: s.exitCode === 0 && s.json !== null, result: s.json }));
const doc = { host, at: new Date().toISOString(), driverCuda: cuda, env, bench, steps };
fs.writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
JS
[ -s "$OUT" ] || die "could not write $OUT"
echo "$OUT"

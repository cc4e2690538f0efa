#!/usr/bin/env bash
# Prepares a GPU instance for the trainer's GPU backend, @tensorflow/tfjs-node-gpu 4.22. Its install
# downloads libtensorflow 2.9.1, which loads the CUDA 11 sonames (libcudart.so.11.0, libcublas.so.11,
# libcublasLt.so.11, libcufft.so.10, libcurand.so.10, libcusolver.so.11, libcusparse.so.11) and
# cuDNN 8 (libcudnn.so.8). What it needs, whatever the GPU:
#   1. an NVIDIA driver >= 525.60.13 (a CUDA 12 driver; drivers run older CUDA runtimes, so the
#      instance keeps the driver its AMI ships)
#   2. the CUDA 11.8 runtime libraries, installed beside any CUDA 12 toolkit (different sonames)
#   3. cuDNN 8.9.x, CUDA 11 build (8.1 has no kernels for Ada/Hopper: L4, H100)
#   4. a persistent CUDA JIT cache: TF 2.9's own kernels are sm_35…sm_75 SASS + compute_80 PTX, so
#      on A100/A10G/L4/H100 the driver compiles them from PTX at the first start (TF warns "could
#      take 30 minutes or longer" on 8.6/8.9/9.0); CUDA_CACHE_PATH on the data disk with
#      CUDA_CACHE_MAXSIZE=4294967296 makes that one-time. (cuDNN 8.9 and cuBLAS 11.8 bring native
#      sm_80/86/89/90 kernels: convolutions and matmuls are not JIT-compiled.)
#   5. on A100 (p4d) and H100 (p5): nvidia-fabricmanager running (NVSwitch; CUDA fails to start without it)
# Do NOT symlink CUDA 12 libraries to the 11 names (libcudart.so.12 -> libcudart.so.11.0): the ABI
# changes between major versions and libtensorflow would load it and then crash or misbehave.
#
#   scripts/ec2/setup-gpu.sh                          # check, print what is missing
#   scripts/ec2/setup-gpu.sh --install                # install (sudo), then check
#   scripts/ec2/setup-gpu.sh --dry-run [--gpu h100]   # print the commands --install would run
#
# Options:
#   --gpu a10g|l4|a100|h100   GPU family (default: from nvidia-smi). a10g = EC2 g5 (Ampere 8.6),
#                             l4 = g6 (Ada 8.9; L40S/g6e too), a100 = p4d/p4de (Ampere 8.0),
#                             h100 = p5/p5e (Hopper 9.0; H200 too)
#   --method apt|tarball      apt: NVIDIA's CUDA apt repository (Ubuntu 20.04/22.04, the default there);
#                             tarball: the CUDA 11.8 runfile (toolkit only, no driver) + cuDNN's
#                             redistributable archive (any glibc distro: Ubuntu 24.04, Amazon Linux, …)
#   --ubuntu 20.04|22.04      which NVIDIA repository (default: /etc/os-release)
#   --cache-dir DIR           CUDA JIT cache (default $WORKSTATION_HOME/cuda-cache, else
#                             ~/.config/imagenet-workstation/cuda-cache: the data disk)
#   --cudnn 8.9.x.y           cuDNN version (default 8.9.7.29)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODE=check
GPU=""
METHOD=""
UBUNTU=""
CUDNN_VERSION="8.9.7.29"
DATA_HOME="${WORKSTATION_HOME:-$HOME/.config/imagenet-workstation}"
CACHE_DIR="${CUDA_CACHE_PATH:-$DATA_HOME/cuda-cache}"
CACHE_MAX=4294967296
DRIVER_MIN=525.60.13
CUDA_DIR=/usr/local/cuda-11.8
PROFILE=/etc/profile.d/imagenet-workstation-gpu.sh
CUDA_RUNFILE_URL=https://developer.download.nvidia.com/compute/cuda/11.8.0/local_installers/cuda_11.8.0_520.61.05_linux.run

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "setup-gpu: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --install) MODE=install; shift ;;
    --dry-run) MODE=dry-run; shift ;;
    --gpu) [ $# -ge 2 ] || die "--gpu needs a value"; GPU="$2"; shift 2 ;;
    --method) [ $# -ge 2 ] || die "--method needs a value"; METHOD="$2"; shift 2 ;;
    --ubuntu) [ $# -ge 2 ] || die "--ubuntu needs a value"; UBUNTU="$2"; shift 2 ;;
    --cache-dir) [ $# -ge 2 ] || die "--cache-dir needs a value"; CACHE_DIR="$2"; shift 2 ;;
    --cudnn) [ $# -ge 2 ] || die "--cudnn needs a value"; CUDNN_VERSION="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case "$CUDNN_VERSION" in 8.9.*) ;; *) die "--cudnn must be an 8.9.x version (CUDA 11 build), got $CUDNN_VERSION" ;; esac

# --- GPU family ----------------------------------------------------------------------------------
have_smi() { command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; }
GPU_NAME=""
DRIVER=""
if have_smi; then
  GPU_NAME="$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)"
  DRIVER="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)"
fi
family_of() {
  case "$1" in
    *H100*|*H200*) echo h100 ;;
    *A100*) echo a100 ;;
    *A10G*|*" A10"|*" A10 "*) echo a10g ;;
    *L40S*|*L40*|*" L4"|*" L4 "*) echo l4 ;;
    *) echo "" ;;
  esac
}
GPU_FORCED=1
if [ -z "$GPU" ]; then GPU_FORCED=0; GPU="$(family_of "$GPU_NAME")"; fi
case "$GPU" in
  a10g) FAMILY="A10G: EC2 g5, Ampere, compute capability 8.6, 24 GB" ; FABRIC=0 ;;
  l4) FAMILY="L4: EC2 g6, Ada, compute capability 8.9, 24 GB (L40S/g6e: the same)" ; FABRIC=0 ;;
  a100) FAMILY="A100: EC2 p4d/p4de, Ampere, compute capability 8.0, 40/80 GB, NVSwitch" ; FABRIC=1 ;;
  h100) FAMILY="H100: EC2 p5/p5e, Hopper, compute capability 9.0, 80 GB, NVSwitch" ; FABRIC=1 ;;
  "") FAMILY="${GPU_NAME:-no GPU seen by nvidia-smi}: pass --gpu a10g|l4|a100|h100 for its notes (the libraries are the same for all)" ; FABRIC=0 ;;
  *) die "--gpu must be a10g, l4, a100 or h100, got $GPU" ;;
esac
DRIVER_MAJOR="${DRIVER%%.*}"

# --- how to install --------------------------------------------------------------------------------
OS_NOTE=""
if [ -z "$UBUNTU" ] && [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  . /etc/os-release
  [ "${ID:-}" = ubuntu ] && UBUNTU="${VERSION_ID:-}"
fi
case "$UBUNTU" in 20.04) REPO=ubuntu2004 ;; 22.04) REPO=ubuntu2204 ;; *) REPO="" ;; esac
if [ -z "$METHOD" ]; then
  if [ -n "$REPO" ]; then METHOD=apt; else METHOD=tarball; OS_NOTE="not Ubuntu 20.04/22.04 (NVIDIA's repository has no CUDA 11.8 for it): runfile + tarball"; fi
fi
case "$METHOD" in
  apt) [ -n "$REPO" ] || die "--method apt needs Ubuntu 20.04 or 22.04 (or --ubuntu 20.04|22.04); use --method tarball here" ;;
  tarball) ;;
  *) die "--method must be apt or tarball, got $METHOD" ;;
esac
CUDNN_TARBALL="cudnn-linux-x86_64-${CUDNN_VERSION}_cuda11-archive"
CUDNN_URL="https://developer.download.nvidia.com/compute/cudnn/redist/cudnn/linux-x86_64/${CUDNN_TARBALL}.tar.xz"

# The install, one shell command per line, in order (--dry-run prints them, --install runs them).
PLAN=()
plan() { PLAN+=("$1"); }
if [ "$METHOD" = apt ]; then
  plan "wget -q -O /tmp/cuda-keyring_1.1-1_all.deb https://developer.download.nvidia.com/compute/cuda/repos/$REPO/x86_64/cuda-keyring_1.1-1_all.deb"
  plan "sudo dpkg -i /tmp/cuda-keyring_1.1-1_all.deb"
  plan "sudo apt-get update"
  # the runtime libraries only: no driver (cuda-runtime-11-8 would pull cuda-drivers), no compiler
  plan "sudo apt-get install -y --no-install-recommends cuda-libraries-11-8 libcudnn8=${CUDNN_VERSION}-1+cuda11.8"
  plan "sudo apt-mark hold libcudnn8"
else
  plan "wget -q -O /tmp/cuda_11.8.0_linux.run $CUDA_RUNFILE_URL"
  # --toolkit alone installs no driver; the runfile re-points /usr/local/cuda, so the old link is restored
  plan "prev=\$(readlink /usr/local/cuda || true); sudo sh /tmp/cuda_11.8.0_linux.run --silent --toolkit --toolkitpath=$CUDA_DIR --no-man-page; if [ -n \"\$prev\" ]; then sudo ln -sfn \"\$prev\" /usr/local/cuda; fi"
  plan "wget -q -O /tmp/${CUDNN_TARBALL}.tar.xz $CUDNN_URL"
  plan "tar -xJf /tmp/${CUDNN_TARBALL}.tar.xz -C /tmp"
  plan "sudo cp -P /tmp/${CUDNN_TARBALL}/include/cudnn*.h $CUDA_DIR/include/ && sudo cp -P /tmp/${CUDNN_TARBALL}/lib/libcudnn* $CUDA_DIR/lib64/"
fi
# the CUDA 11.8 libraries on the loader path, beside CUDA 12's (their sonames differ)
plan "echo $CUDA_DIR/lib64 | sudo tee /etc/ld.so.conf.d/cuda-11-8.conf >/dev/null"
plan "sudo ldconfig"
if [ "$FABRIC" = 1 ]; then
  plan "systemctl is-active --quiet nvidia-fabricmanager || { sudo apt-get install -y nvidia-fabricmanager-${DRIVER_MAJOR:-535} && sudo systemctl enable --now nvidia-fabricmanager; }"
fi
ENV_LINES=(
  "export LD_LIBRARY_PATH=$CUDA_DIR/lib64\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
  "export CUDA_CACHE_PATH=\${CUDA_CACHE_PATH:-$CACHE_DIR}"
  "export CUDA_CACHE_MAXSIZE=\${CUDA_CACHE_MAXSIZE:-$CACHE_MAX}"
)
plan "mkdir -p $CACHE_DIR"
plan "printf '%s\\n' '# imagenet-workstation: CUDA 11.8 for libtensorflow 2.9, persistent CUDA JIT cache' $(printf "'%s' " "${ENV_LINES[@]}")| sudo tee $PROFILE >/dev/null"

run_plan() {
  local cmd
  for cmd in "${PLAN[@]}"; do
    echo "+ $cmd"
    bash -c "$cmd" || { echo "setup-gpu: failed: $cmd" >&2; exit 1; }
  done
}

describe() {
  local how=' (nvidia-smi)'
  [ "$GPU_FORCED" = 1 ] && how=' (--gpu)'
  [ -z "$GPU" ] && how=''
  echo "GPU family: ${GPU:-unknown}$how — $FAMILY"
  echo "install method: $METHOD${REPO:+ (NVIDIA repository $REPO)}${OS_NOTE:+ — $OS_NOTE}"
  echo "CUDA 11.8 runtime libraries in $CUDA_DIR/lib64, cuDNN $CUDNN_VERSION (CUDA 11 build), driver >= $DRIVER_MIN (kept as the AMI ships it)"
}

if [ "$MODE" = dry-run ]; then
  echo "setup-gpu --dry-run: nothing is changed"
  describe
  echo "commands --install would run:"
  printf '+ %s\n' "${PLAN[@]}"
  echo "environment written to $PROFILE (new shells; the service sets the cache variables itself when unset):"
  printf '  %s\n' "${ENV_LINES[@]}"
  case "$GPU" in
    h100|l4|a10g) echo "note: the first start JIT-compiles TF 2.9's kernels from compute_80 PTX (TF warns: 30 minutes or longer); the cache in $CACHE_DIR keeps them" ;;
    a100) echo "note: TF 2.9 has compute_80 PTX (no sm_80 SASS): the first start JIT-compiles it for the A100; the cache in $CACHE_DIR keeps it" ;;
  esac
  [ "$FABRIC" = 1 ] && echo "note: NVSwitch machine: nvidia-fabricmanager must match the driver's major version (${DRIVER_MAJOR:-535 assumed: no driver seen})"
  exit 0
fi

if [ "$MODE" = install ]; then
  [ "$METHOD" = apt ] || [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1 || die "needs sudo"
  describe
  run_plan
  # this shell too, for the check below
  export LD_LIBRARY_PATH="$CUDA_DIR/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export CUDA_CACHE_PATH="${CUDA_CACHE_PATH:-$CACHE_DIR}" CUDA_CACHE_MAXSIZE="${CUDA_CACHE_MAXSIZE:-$CACHE_MAX}"
fi

# --- check ---------------------------------------------------------------------------------------
ok=1
pass() { echo "  ok      $*"; }
fail() { echo "  MISSING $*"; ok=0; }
info() { echo "  note    $*"; }
# where the loader finds a library: ldconfig's cache, else LD_LIBRARY_PATH
lib_path() {
  local p d
  p="$(ldconfig -p 2>/dev/null | awk -v lib="$1" '$1 == lib { print $NF; exit }')"
  [ -n "$p" ] && { echo "$p"; return 0; }
  p="${LD_LIBRARY_PATH:-}"
  for d in ${p//:/ }; do [ -e "$d/$1" ] && { echo "$d/$1"; return 0; }; done
  return 1
}
have_lib() { lib_path "$1" >/dev/null; }
version_ge() { [ "$(printf '%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }

echo "GPU prerequisites for @tensorflow/tfjs-node-gpu 4.22 (libtensorflow 2.9.1: CUDA 11.8 runtime, cuDNN 8.9):"
if have_smi; then
  if version_ge "$DRIVER" "$DRIVER_MIN"; then pass "NVIDIA driver $DRIVER ($GPU_NAME; family ${GPU:-unknown})"; else fail "NVIDIA driver $DRIVER is older than $DRIVER_MIN (a CUDA 12 driver runs the CUDA 11.8 runtime)"; fi
else
  fail "NVIDIA driver: nvidia-smi not found or not working (GPU instance? driver installed? rebooted after installing?)"
fi
for lib in libcudart.so.11.0 libcublas.so.11 libcublasLt.so.11 libcufft.so.10 libcurand.so.10 libcusolver.so.11 libcusparse.so.11; do
  if have_lib "$lib"; then pass "$lib"; else fail "$lib (CUDA 11.8 runtime: scripts/ec2/setup-gpu.sh --install, or add $CUDA_DIR/lib64 to LD_LIBRARY_PATH)"; fi
done
if cudnn="$(lib_path libcudnn.so.8)"; then
  # libcudnn.so.8 -> libcudnn.so.8.9.7; else the header (only with the -dev package or the tarball)
  ver="$(readlink -f "$cudnn" | sed -n 's/.*libcudnn\.so\.\([0-9][0-9.]*\)$/\1/p')"
  case "$ver" in *.*.*) ;; *) ver="$(grep -hE '#define CUDNN_(MAJOR|MINOR|PATCHLEVEL) ' /usr/include/cudnn_version*.h /usr/include/x86_64-linux-gnu/cudnn_version*.h "$CUDA_DIR"/include/cudnn_version.h 2>/dev/null | awk '{print $3}' | head -3 | paste -sd. -)" ;; esac
  case "$ver" in
    8.9.*|"") pass "libcudnn.so.8${ver:+ ($ver)}" ;;
    *) fail "libcudnn.so.8 is $ver: cuDNN 8.9.x (CUDA 11 build) is needed (8.1 has no Ada/Hopper kernels): scripts/ec2/setup-gpu.sh --install" ;;
  esac
else
  fail "libcudnn.so.8 (cuDNN 8.9, CUDA 11 build: scripts/ec2/setup-gpu.sh --install)"
fi
if [ -n "${CUDA_CACHE_PATH:-}" ]; then pass "CUDA JIT cache $CUDA_CACHE_PATH (max ${CUDA_CACHE_MAXSIZE:-driver default} bytes)"; else info "CUDA_CACHE_PATH unset in this shell: the service uses <data dir>/cuda-cache; CLI commands (doctor, bench) JIT-compile again unless $PROFILE is sourced"; fi
if [ "$FABRIC" = 1 ]; then
  if systemctl is-active --quiet nvidia-fabricmanager 2>/dev/null; then pass "nvidia-fabricmanager running"; else fail "nvidia-fabricmanager not running (NVSwitch: CUDA cannot start without it): sudo systemctl enable --now nvidia-fabricmanager"; fi
fi
if (cd "$ROOT" && node -e "require('@tensorflow/tfjs-node-gpu')" >/dev/null 2>&1); then
  pass "@tensorflow/tfjs-node-gpu loads"
else
  fail "@tensorflow/tfjs-node-gpu does not load: run npm ci after the libraries above are in place (its install downloads libtensorflow GPU); details: node -e \"require('@tensorflow/tfjs-node-gpu')\""
fi

if [ "$ok" = 1 ]; then
  echo "All set: training with backend 'auto' or 'gpu' uses the GPU. Check with: npx workstation doctor; measure with scripts/gpu/measure.sh"
else
  echo "Without these the trainer falls back to tfjs-node (CPU) or pure JS; 'gpu' as backend fails with BACKEND_UNAVAILABLE."
  exit 1
fi

#!/usr/bin/env bash
# Checks that a GPU instance can run the trainer on CUDA through @tensorflow/tfjs-node-gpu 4.22,
# which loads TensorFlow 2.9's libtensorflow built against CUDA 11.2 and cuDNN 8.1:
#   1. an NVIDIA driver new enough for CUDA 11.2 (>= 460.27 on Linux; newer drivers are fine)
#   2. the CUDA 11.x runtime libraries (libcudart.so.11.0, libcublas.so.11, libcufft.so.10, …)
#   3. cuDNN 8 (libcudnn.so.8, 8.1 or a later 8.x)
#   4. tfjs-node-gpu installed and loading (it is an optional dependency of this package)
# It only checks and prints what is missing, unless --install is given, in which case it
# installs CUDA 11.2 + cuDNN 8.1 from NVIDIA's apt repository (Ubuntu 20.04/22.04, needs sudo).
# The driver itself comes with the AMI (AWS "Deep Learning Base" AMIs ship one) or
# `sudo apt-get install -y nvidia-driver-535` + reboot.
#
#   scripts/ec2/setup-gpu.sh            # check
#   scripts/ec2/setup-gpu.sh --install  # install CUDA 11.2 + cuDNN 8.1, then check
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INSTALL=0
[ "${1:-}" = "--install" ] && INSTALL=1
ok=1
pass() { echo "  ok    $*"; }
fail() { echo "  MISSING $*"; ok=0; }

have_lib() { ldconfig -p 2>/dev/null | grep -q "$1" || { [ -n "${LD_LIBRARY_PATH:-}" ] && for d in ${LD_LIBRARY_PATH//:/ }; do [ -e "$d/$1" ] && return 0; done; false; }; }

if [ "$INSTALL" = 1 ]; then
  . /etc/os-release
  case "$VERSION_ID" in 20.04) repo=ubuntu2004 ;; 22.04) repo=ubuntu2204 ;; *) echo "setup-gpu: --install knows Ubuntu 20.04/22.04 only (this is $PRETTY_NAME); install CUDA 11.2 + cuDNN 8.1 by hand" >&2; exit 1 ;; esac
  set -e
  cd /tmp
  wget -q "https://developer.download.nvidia.com/compute/cuda/repos/$repo/x86_64/cuda-keyring_1.1-1_all.deb"
  sudo dpkg -i cuda-keyring_1.1-1_all.deb
  sudo apt-get update
  # runtime libraries only (no driver: keep the one that came with the instance)
  sudo apt-get install -y --no-install-recommends cuda-libraries-11-2 libcudnn8=8.1.1.33-1+cuda11.2
  sudo apt-mark hold libcudnn8
  echo /usr/local/cuda-11.2/lib64 | sudo tee /etc/ld.so.conf.d/cuda-11-2.conf >/dev/null
  sudo ldconfig
  set +e
fi

echo "GPU prerequisites for @tensorflow/tfjs-node-gpu (CUDA 11.2, cuDNN 8.1):"
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
  drv="$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1)"
  gpu="$(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader | head -1)"
  if [ "${drv%%.*}" -ge 460 ] 2>/dev/null; then pass "NVIDIA driver $drv ($gpu)"; else fail "NVIDIA driver $drv is older than 460.27 (needed by CUDA 11.2)"; fi
else
  fail "NVIDIA driver: nvidia-smi not found or not working (GPU instance? driver installed? rebooted after installing?)"
fi
for lib in libcudart.so.11.0 libcublas.so.11 libcublasLt.so.11 libcufft.so.10 libcurand.so.10 libcusolver.so.11 libcusparse.so.11; do
  if have_lib "$lib"; then pass "$lib"; else fail "$lib (CUDA 11.x runtime: scripts/ec2/setup-gpu.sh --install, or add /usr/local/cuda-11.2/lib64 to LD_LIBRARY_PATH)"; fi
done
if have_lib libcudnn.so.8; then
  ver="$(grep -hE '#define CUDNN_(MAJOR|MINOR|PATCHLEVEL)' /usr/include/cudnn_version*.h /usr/local/cuda*/include/cudnn_version.h 2>/dev/null | awk '{print $3}' | head -3 | paste -sd. -)"
  pass "libcudnn.so.8${ver:+ ($ver)}"
else
  fail "libcudnn.so.8 (cuDNN 8.1: scripts/ec2/setup-gpu.sh --install)"
fi
if (cd "$ROOT" && node -e "require('@tensorflow/tfjs-node-gpu')" >/dev/null 2>&1); then
  pass "@tensorflow/tfjs-node-gpu loads"
else
  fail "@tensorflow/tfjs-node-gpu does not load: run npm ci after the libraries above are in place (its install downloads libtensorflow GPU); details: node -e \"require('@tensorflow/tfjs-node-gpu')\""
fi

if [ "$ok" = 1 ]; then
  echo "All set: training with backend 'auto' or 'gpu' uses the GPU. Check with: npx workstation doctor"
else
  echo "Without these the trainer falls back to tfjs-node (CPU) or pure JS; 'gpu' as backend fails with BACKEND_UNAVAILABLE."
  exit 1
fi

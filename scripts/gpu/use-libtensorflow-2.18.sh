#!/usr/bin/env bash
# OPT-IN AND UNPROVEN: moves @tensorflow/tfjs-node-gpu from the libtensorflow 2.9.1 it downloads to
# TensorFlow's libtensorflow 2.18.0 GPU build, and compiles the tfjs binding against it. Nobody has
# run the trainer on it yet: the GPU self-test decides. libtensorflow 2.18 is built for CUDA 12
# (TensorFlow's tested configuration: CUDA 12.5, cuDNN 9.3), so it loads the CUDA 12 / cuDNN 9
# libraries (libcudart.so.12, libcudnn.so.9), not the CUDA 11.8 set scripts/ec2/setup-gpu.sh installs.
# What it does:
#   1. writes node_modules/@tensorflow/tfjs-node-gpu/scripts/custom-binary.json: {"tf-lib": <url>}
#      (a custom-binary.json already there is kept as custom-binary.json.bak)
#   2. removes node_modules/@tensorflow/tfjs-node-gpu/deps (the 2.9.1 library: its install script
#      reuses a library it finds there instead of downloading)
#   3. npm rebuild @tensorflow/tfjs-node-gpu --build-addon-from-source (needs python3, make, a C++ compiler)
#   4. workstation doctor --selftest --backend gpu: the gate; when it fails, go back with --revert
#
#   scripts/gpu/use-libtensorflow-2.18.sh [--dry-run] [--url URL] [--no-selftest]
#   scripts/gpu/use-libtensorflow-2.18.sh --revert [--dry-run]   # back to the stock libtensorflow 2.9.1 (npm rebuild)
#
# WORKSTATION overrides how the CLI is run for the self-test (default: node <repo>/bin/workstation.cjs).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PKG=@tensorflow/tfjs-node-gpu
PKG_DIR="$ROOT/node_modules/$PKG"
CUSTOM="$PKG_DIR/scripts/custom-binary.json"
URL=https://storage.googleapis.com/tensorflow/versions/2.18.0/libtensorflow-gpu-linux-x86_64.tar.gz
DRY=0
REVERT=0
SELFTEST=1
die() { echo "use-libtensorflow-2.18: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) DRY=1; shift ;;
    --revert) REVERT=1; shift ;;
    --url) [ $# -ge 2 ] || die "--url needs a value"; URL="$2"; shift 2 ;;
    --no-selftest) SELFTEST=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
case "$URL" in https://*|http://*|file://*) ;; *) die "--url must be a URL, got $URL" ;; esac
read -r -a WS <<<"${WORKSTATION:-node $ROOT/bin/workstation.cjs}"

run() {
  echo "+ $*"
  [ "$DRY" = 1 ] || "$@"
}
# the JSON as tfjs-node's scripts/deps-constants.js reads it (the URL is JSON-escaped)
JSON="$(node -e 'process.stdout.write(JSON.stringify({ "tf-lib": process.argv[1] }))' "$URL" 2>/dev/null || printf '{"tf-lib": "%s"}' "$URL")"

if [ "$DRY" = 1 ]; then
  echo "use-libtensorflow-2.18 --dry-run: nothing is changed"
else
  [ -d "$PKG_DIR" ] || die "$PKG is not installed in $ROOT/node_modules (npm install $PKG@4.22.0 first)"
  for tool in npm python3 make; do command -v "$tool" >/dev/null 2>&1 || die "$tool is needed to build the binding from source"; done
  command -v g++ >/dev/null 2>&1 || command -v c++ >/dev/null 2>&1 || die "a C++ compiler (g++) is needed to build the binding from source"
fi

if [ "$REVERT" = 1 ]; then
  echo "back to the stock libtensorflow 2.9.1 of $PKG 4.22:"
  if [ -f "$CUSTOM.bak" ]; then run mv "$CUSTOM.bak" "$CUSTOM"; else run rm -f "$CUSTOM"; fi
else
  echo "OPT-IN, UNPROVEN: libtensorflow from $URL for $PKG (gated by workstation doctor --selftest)"
  if [ -f "$CUSTOM" ] && ! grep -qF "\"$URL\"" "$CUSTOM"; then run cp "$CUSTOM" "$CUSTOM.bak"; fi
  echo "+ write $CUSTOM: $JSON"
  [ "$DRY" = 1 ] || printf '%s\n' "$JSON" >"$CUSTOM"
fi
run rm -rf "$PKG_DIR/deps"
# a custom library without a prebuilt addon needs the binding compiled against it; the stock one has a prebuilt addon
if [ "$REVERT" = 1 ]; then (cd "$ROOT" && run npm rebuild "$PKG"); else (cd "$ROOT" && run npm rebuild "$PKG" --build-addon-from-source); fi

if [ "$SELFTEST" = 1 ]; then
  echo "+ ${WS[*]} doctor --selftest --backend gpu"
  if [ "$DRY" = 0 ] && ! "${WS[@]}" doctor --selftest --backend gpu; then
    echo "use-libtensorflow-2.18: the GPU self-test failed on this libtensorflow; do not train on it. Back to 2.9.1: $0 --revert" >&2
    exit 1
  fi
fi
[ "$DRY" = 1 ] || echo "done; $( [ "$REVERT" = 1 ] && echo 'libtensorflow 2.9.1 again' || echo 'run scripts/gpu/measure.sh to compare with 2.9.1')"

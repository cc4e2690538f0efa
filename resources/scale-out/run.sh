#!/usr/bin/env bash
# Launches train_ddp.py with torchrun (torchrun.py beside it: torch.distributed.run, with a fix for
# Debian's torch 1.13 on Python 3.11): one process per GPU (or CPU share), one or several machines.
#
#   ./run.sh --nproc 8                                   one machine, 8 GPUs (NCCL)
#   ./run.sh --nproc 2 --device cpu                      one machine, 2 CPU processes (gloo)
#   ./run.sh --nproc 8 --nnodes 2 --node-rank 0 --master-addr 10.0.0.1   first of two machines
#   ./run.sh --nproc 8 --nnodes 2 --node-rank 1 --master-addr 10.0.0.1   second machine
#
# Other flags go to train_ddp.py: --data-root DIR, --epochs N, --resume FILE, --workers N, --sync-bn, --no-live-report.
# PYTHON (or --python) picks the interpreter that has torch and torchvision (default python3).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NPROC=1
DEVICE=cuda
NNODES=1
NODE_RANK=0
MASTER_ADDR=""
MASTER_PORT=29500
PY="${PYTHON:-python3}"
EXTRA=()

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "run.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --nproc) NPROC="${2:?--nproc needs a value}"; shift 2 ;;
    --device) DEVICE="${2:?--device needs a value}"; shift 2 ;;
    --nnodes) NNODES="${2:?--nnodes needs a value}"; shift 2 ;;
    --node-rank) NODE_RANK="${2:?--node-rank needs a value}"; shift 2 ;;
    --master-addr) MASTER_ADDR="${2:?--master-addr needs a value}"; shift 2 ;;
    --master-port) MASTER_PORT="${2:?--master-port needs a value}"; shift 2 ;;
    --python) PY="${2:?--python needs a value}"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done

case "$DEVICE" in cuda | cpu) ;; *) die "--device must be cuda or cpu, got '$DEVICE'" ;; esac
whole() { [[ "$2" =~ ^[0-9]+$ ]] || die "$1 must be a whole number, got '$2'"; }
whole --nproc "$NPROC"
whole --nnodes "$NNODES"
whole --node-rank "$NODE_RANK"
whole --master-port "$MASTER_PORT"
[ "$NPROC" -ge 1 ] || die "--nproc must be at least 1"
"$PY" -c 'import torch, torchvision' 2>/dev/null || die "$PY cannot import torch and torchvision (pass --python or set PYTHON)"
if [ "$DEVICE" = cuda ]; then
  "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' || die "no CUDA device visible to $PY; use --device cpu"
elif [ -z "${OMP_NUM_THREADS:-}" ]; then
  # torchrun would pin every process to one thread; share the cores instead
  export OMP_NUM_THREADS=$(( $(nproc) / NPROC > 0 ? $(nproc) / NPROC : 1 ))
fi

if [ "$NNODES" -eq 1 ]; then
  RDZV=(--standalone)
else
  [ -n "$MASTER_ADDR" ] || die "--nnodes $NNODES needs --master-addr (the address of the --node-rank 0 machine)"
  RDZV=(--nnodes "$NNODES" --node_rank "$NODE_RANK" --master_addr "$MASTER_ADDR" --master_port "$MASTER_PORT")
fi

exec "$PY" "$HERE/torchrun.py" "${RDZV[@]}" --nproc_per_node "$NPROC" "$HERE/train_ddp.py" --device "$DEVICE" ${EXTRA[@]+"${EXTRA[@]}"}

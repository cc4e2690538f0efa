#!/usr/bin/env bash
# Writes the run config our side of the PyTorch parity check uses (docs/BENCHMARKS.md).
# usage: scripts/parity/demo-config.sh <out.json> <demo dataset dir> <width> <lr> <seed> <epochs>
set -euo pipefail
cat > "$1" <<J
{ "name": "parity-w$3-lr$4-s$5", "seed": $5, "backend": "cpu",
  "model": { "arch": "resnet50", "numClasses": 10, "widthMultiplier": $3 },
  "data": { "root": "$2", "workers": 1, "prefetch": 2, "trainSize": 32,
    "valTransform": "resize", "valResize": 32, "valSize": 32, "maxStepsPerEpoch": 50 },
  "augment": { "randomResizedCrop": { "enabled": true, "scale": [0.35, 1.0], "ratio": [0.75, 1.3333333333333333] },
    "hflip": 0.5, "colorJitter": { "brightness": 0.2, "contrast": 0.2, "saturation": 0.2, "hue": 0.05, "p": 0.5 } },
  "train": { "epochs": $6, "batchSize": 32, "logEverySteps": 25 },
  "optimizer": { "name": "sgd", "lr": $4, "momentum": 0.9, "weightDecay": 0.0001 },
  "schedule": { "policy": "constant" },
  "checkpoint": { "keepLast": 1, "keepBest": false }
}
J

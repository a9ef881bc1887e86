#!/usr/bin/env bash
# Measure random-weight LLMs of several sizes on this machine's CPU with the torch backend and
# store every sample in data/host/host_runs.sqlite (used by `airadar calibrate --from-store`).
set -euo pipefail
cd "$(dirname "$0")/.."
STORE=${STORE:-data/host/host_runs.sqlite}
.venv/bin/airadar bench-host --threads 2 --store "$STORE"
for m in data/host/configs/rand-40m/config.json data/host/configs/rand-80m/config.json \
         smollm2-135m data/host/configs/rand-150m/config.json data/host/configs/rand-200m/config.json data/host/configs/rand-300m/config.json; do
  .venv/bin/airadar bench --backend torch --model "$m" --batch 1,4 --input-tokens 128 \
    --output-tokens 16 --min-count 8 --min-duration 3 --threads 2 --store "$STORE"
done
.venv/bin/airadar bench-host --threads 2 --store "$STORE"

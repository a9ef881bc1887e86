#!/usr/bin/env bash
# Measure decoder LLMs of several sizes on this machine's CPU and store every sample in
# data/host/host_runs.sqlite (used by `airadar calibrate --from-store`):
#   torch:    five random-weight configs and SmolLM2-135M (real weights), fp32, batches 1 and 4;
#   llamacpp: the same five configs as random F16 GGUF files and their Q8_0 and Q4_0
#             requantizations, and SmolLM2-135M's packaged Q4_1 file, batch 1.
# STACKS="torch llamacpp" (default) selects which to run. Host micro-benchmarks run first
# and last and are stored with the runs.
set -euo pipefail
cd "$(dirname "$0")/.."
STORE=${STORE:-data/host/host_runs.sqlite}
STACKS=${STACKS:-torch llamacpp}
CONFIGS="data/host/configs/rand-40m/config.json data/host/configs/rand-80m/config.json
         data/host/configs/rand-150m/config.json data/host/configs/rand-200m/config.json
         data/host/configs/rand-300m/config.json"
COMMON=(--input-tokens 128 --output-tokens 16 --min-count 8 --min-duration 3 --threads 2 --store "$STORE")
.venv/bin/airadar bench-host --threads 2 --store "$STORE"
if [[ " $STACKS " == *" torch "* ]]; then
  for m in $CONFIGS smollm2-135m; do
    .venv/bin/airadar bench --backend torch --model "$m" --batch 1,4 "${COMMON[@]}"
  done
fi
if [[ " $STACKS " == *" llamacpp "* ]]; then
  for m in $CONFIGS; do
    for v in file q8_0 q4_0; do
      .venv/bin/airadar bench --backend llamacpp --model "$m" --variant "$v" "${COMMON[@]}"
    done
  done
  .venv/bin/airadar bench --backend llamacpp --model smollm2-135m --no-quality "${COMMON[@]}"
fi
.venv/bin/airadar bench-host --threads 2 --store "$STORE"

#!/usr/bin/env bash
# Measure the packaged GGUF models and their llama.cpp requantized variants on this CPU
# (speed, estimated energy, perplexity on the shipped corpus); every sample goes to
# data/host/variants.sqlite. `airadar results list --store data/host/variants.sqlite` reads it.
set -euo pipefail
cd "$(dirname "$0")/.."
STORE=${STORE:-data/host/variants.sqlite}
for v in file q8_0 q4_k_m q2_k; do
  .venv/bin/airadar bench --backend llamacpp --model smollm2-135m --variant "$v" -i 128 -o 32 \
    --min-count 8 --min-duration 3 --threads 2 --store "$STORE"
done
.venv/bin/airadar bench --backend llamacpp --model gemma-3-270m -i 128 -o 32 \
  --min-count 8 --min-duration 3 --threads 2 --store "$STORE"
for v in int8-dynamic prune-magnitude prune-2:4; do
  .venv/bin/airadar bench --backend torch --model smollm2-135m --variant "$v" -i 128 -o 32 \
    --min-count 8 --min-duration 3 --threads 2 --store "$STORE"
done

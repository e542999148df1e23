#!/bin/sh
# The scale-out path end to end, from the repository root (docs/scale-out.md):
#   1. wasmformer trains a GPT and exports it in the Hugging Face layout;
#   2. PyTorch trains it on with DistributedDataParallel, 2 processes (gloo, CPU), and saves it;
#   3. wasmformer loads the result, scores it on the same held-out windows and samples from it.
# Usage: sh examples/scale-out/run.sh [--tiny]
#   PYTHON: a Python with torch and transformers (default python3); OUT: where the models go.
set -eu
PYTHON=${PYTHON:-python3}
OUT=${OUT:-runs/scale-out}
node examples/scale-out/export.mjs --out "$OUT/exported" "$@"
"$PYTHON" -m torch.distributed.run --standalone --nproc_per_node 2 \
  examples/scale-out/train_ddp.py --model "$OUT/exported" --out "$OUT/trained" "$@"
node examples/scale-out/run.mjs --model "$OUT/trained" --before "$OUT/exported"

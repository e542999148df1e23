#!/usr/bin/env bash
# The wasmformer command line: train a GPT, evaluate it, generate from it, train a tokenizer,
# pretrain and fine-tune a BERT. Every command lists its flags with --help.
# Run: bash examples/cli.sh   (after `npm install wasmformer`; STEPS=20 for a quick look)
#   DATA: any text file (default: tinyshakespeare, in data/ of the repository);
#   TRAIN / DEV: TSV files with a header row, a `sentence` and a `label` column (0…K-1), e.g.
#   GLUE SST-2's train.tsv and dev.tsv (https://huggingface.co/datasets/stanfordnlp/sst2).
set -euo pipefail
STEPS=${STEPS:-2000}
DATA=${DATA:-data/tinyshakespeare.txt}
TRAIN=${TRAIN:-sst2/train.tsv}
DEV=${DEV:-sst2/dev.tsv}

# GPT: nanoGPT's Shakespeare recipe (char-level; --tokenizer bpe --vocab-size 2048 for BPE).
npx wasmformer train --data "$DATA" --out runs/cli-gpt --steps "$STEPS" --n-layer 4 --n-head 4 \
  --n-embd 128 --block-size 64 --batch-size 12 --lr 1e-3 --warmup 100 --beta2 0.99
npx wasmformer eval --checkpoint runs/cli-gpt --data "$DATA"
npx wasmformer generate --checkpoint runs/cli-gpt --prompt "ROMEO:" --max-tokens 300 \
  --temperature 0.8 --top-k 40 --top-p 0.95 --stop $'\n\n'
npx wasmformer tokenizer train --data "$DATA" --vocab-size 4096 --out runs/cli-tok --special '<|endoftext|>'

# BERT: masked-LM pretraining (--data: one sentence per line, blank lines between documents;
# without it, the built-in grammar corpus; --nsp adds next-sentence prediction), then use.
npx wasmformer bert pretrain --out runs/cli-bert --steps "$STEPS" --vocab-size 8000
npx wasmformer bert fill-mask --checkpoint runs/cli-bert --text "the [MASK] chased the cat ."
# Fine-tuning a classifier (from a wasmformer BERT, or a Hugging Face BERT directory), and use.
npx wasmformer bert finetune --checkpoint runs/cli-bert --train "$TRAIN" --dev "$DEV" --out runs/cli-cls --epochs 1
npx wasmformer bert predict --checkpoint runs/cli-cls --text "a gripping film" --text "a dull mess"

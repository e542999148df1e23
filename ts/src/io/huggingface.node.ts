/**
 * Hugging Face checkpoints (Node): a directory with `config.json` and `model.safetensors` (or
 * `model.safetensors.index.json` and its shards), as `save_pretrained` writes them. The name
 * and layout mapping is in `huggingface.ts`; this file reads and writes the files.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError } from '../errors.js';
import { BERT } from '../models/bert.js';
import { GPT } from '../models/gpt.js';
import type { NamedTensor, TransformerModel } from '../models/transformer.js';
import { readFileChecked, writeFileAtomic } from './files.node.js';
import {
  type HuggingFaceConfig,
  bertHeadsOf,
  configFromHuggingFace,
  configToHuggingFace,
  huggingFaceArch,
  weightsFromHuggingFace,
  weightsToHuggingFace,
} from './huggingface.js';
import { type SafetensorsTensorInput, readSafetensors, writeSafetensors } from './safetensors.js';

/** Options of {@link loadHuggingFace}. */
export interface LoadHuggingFaceOptions {
  /** Dropout for fine-tuning (default 0; Hugging Face's `*_pdrop` fields are not read). */
  dropout?: number;
  /**
   * BERT: a new classifier of this many classes on the checkpoint's pooler, for a checkpoint
   * without one (`BertModel`, as `BertForSequenceClassification.from_pretrained(dir, num_labels)`).
   */
  nClasses?: number;
  /** Seed of the initial values of the heads the checkpoint does not have (default 0). */
  seed?: number;
}

/** Options of {@link saveHuggingFace}. */
export interface SaveHuggingFaceOptions {
  /** Extra config.json fields, e.g. `{ bos_token_id: 0, eos_token_id: 0 }`; mapped fields win. */
  extraConfig?: HuggingFaceConfig;
}

async function readJson(path: string, what: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readFileChecked(path, what));
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`${path} is not valid JSON (${(error as Error).message})`);
  }
}

/** Every tensor of the checkpoint in `dir`, from one file or from the shards an index lists (null: an integer buffer). */
async function readTensors(dir: string): Promise<Map<string, NamedTensor | null>> {
  const single = join(dir, 'model.safetensors');
  const index = join(dir, 'model.safetensors.index.json');
  let files: string[];
  if (existsSync(single)) {
    files = ['model.safetensors'];
  } else if (existsSync(index)) {
    const json = (await readJson(index, 'safetensors index')) as { weight_map?: unknown };
    if (typeof json?.weight_map !== 'object' || json.weight_map === null) throw new CheckpointError(`${index}: no "weight_map" object`);
    files = [...new Set(Object.values(json.weight_map as Record<string, unknown>).map(String))];
  } else {
    throw new CheckpointError(
      `${dir}: no model.safetensors or model.safetensors.index.json (PyTorch .bin checkpoints are not read; convert them with safetensors first)`,
    );
  }
  const tensors = new Map<string, NamedTensor | null>();
  for (const file of files) {
    const parsed = readSafetensors(await readFileChecked(join(dir, file), `weights file ${file}`), file, { skipNonFloat: true });
    for (const [name, t] of parsed.tensors) tensors.set(name, { shape: t.shape, data: t.data });
    for (const name of parsed.skipped ?? []) tensors.set(name, null);
  }
  return tensors;
}

/**
 * Loads a Hugging Face GPT-2, Llama, SmolLM3 or GPT-NeoX checkpoint (float32, float16 or bfloat16
 * weights) as a {@link GPT}, a BERT checkpoint as a {@link BERT}. Needs `await init()` first.
 * SmolLM3 loads as the Llama block with `noPositionLayers` = the layers whose `no_rope_layers`
 * entry is 0 (absent: every `no_rope_layer_interval`-th layer, as transformers builds it).
 * GPT-NeoX loads with `ropeFraction` = its `rotary_pct` (`partial_rotary_factor`); only the
 * sequential block (`use_parallel_residual: false`) exists here, so Pythia's default is refused.
 *
 * BERT keeps the heads the checkpoint has: `BertForMaskedLM` → `lmHead: 'mlm'`,
 * `BertForPreTraining` → `'mlm'` + `nClasses: 2` (next sentence), `BertForSequenceClassification`
 * → `nClasses` = its labels. A bare `BertModel` (e.g. sentence-transformers' encoders) loads with
 * `lmHead: 'mlm'` at its initial values (`seed`), because a wasmformer model needs an output;
 * its pooler is skipped unless `nClasses` asks for a new classifier on it. `embed` and the
 * hidden states use neither.
 *
 * @example
 * ```ts
 * await init();
 * const gpt = await loadHuggingFace('checkpoints/tiny-llama');
 * if (gpt instanceof GPT) gpt.generate([1, 2, 3], { maxNewTokens: 20, temperature: 0 });
 * const bert = await loadHuggingFace('checkpoints/all-MiniLM-L6-v2');   // a BERT
 * ```
 * @param dir - a directory with `config.json` and `model.safetensors` (or a sharded index).
 * @throws UnsupportedConfigError naming a config.json field wasmformer does not implement
 *   (e.g. `num_key_value_heads` ≠ `num_attention_heads`, RoPE scaling other than linear or YaRN, another
 *   activation, GPT-NeoX `use_parallel_residual: true`), before any wasm work.
 * @throws CheckpointError for a missing file or a missing, misshapen or unexpected tensor.
 */
export async function loadHuggingFace(dir: string, options: LoadHuggingFaceOptions = {}): Promise<GPT | BERT> {
  const raw = await readJson(join(dir, 'config.json'), 'Hugging Face config.json');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new CheckpointError(`${join(dir, 'config.json')}: expected a JSON object`);
  const hf = raw as HuggingFaceConfig;
  const arch = huggingFaceArch(hf);
  const tensors = await readTensors(dir);
  const floats = [...tensors].filter(([, t]) => t !== null).map(([name]) => name);
  const config = arch === 'bert' ? configFromHuggingFace(hf, bertHeadsOf(floats), options.nClasses) : configFromHuggingFace(hf);
  const input = { ...config, dropout: options.dropout ?? 0 };
  // A config.json that describes a far larger model than its weights hold is refused before
  // the model is allocated (heads a checkpoint lacks, such as a bare BertModel's MLM head, are small).
  const planned = (arch === 'bert' ? BERT.estimate(input, 1, 1) : GPT.estimate(input, 1, 1)).params / 4;
  const held = [...tensors.values()].reduce((n, t) => n + (t ? t.data.length : 0), 0);
  if (planned > 2 * held + 2 ** 20) {
    throw new CheckpointError(
      `${dir}: config.json describes a model of ${planned} parameters but the weights hold ${held}; the files do not belong together`,
    );
  }
  const model = arch === 'bert' ? BERT.create(input, { seed: options.seed ?? 0 }) : GPT.create(input, { seed: options.seed ?? 0 });
  try {
    // Heads the checkpoint lacks keep their initial values.
    const weights = model.getWeights();
    for (const [name, t] of weightsFromHuggingFace(arch, model.config, model.paramSpecs, tensors)) weights.set(name, t);
    model.setWeights(weights);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}

/**
 * Writes `model` as a Hugging Face checkpoint: `config.json` and `model.safetensors` (float32,
 * HF names and layouts), loadable with `AutoModelForCausalLM.from_pretrained(dir)`. Learned
 * positions + LayerNorm + GELU + biases is saved as GPT-2; RoPE + RMSNorm + SwiGLU without
 * biases as Llama, or as SmolLM3 (`SmolLM3ForCausalLM`, `no_rope_layers`) when `noPositionLayers`
 * is non-empty; RoPE (any `ropeFraction`) + LayerNorm + GELU + biases as GPT-NeoX
 * (`GPTNeoXForCausalLM`, `use_parallel_residual: false`); a BERT (encoder, post-LayerNorm, segment embeddings) as
 * `BertForMaskedLM`, `BertForPreTraining` (MLM + 2 classes) or `BertForSequenceClassification`
 * (`AutoModelForMaskedLM` / `AutoModelForPreTraining` / `AutoModelForSequenceClassification`).
 * Creates `dir` if needed and replaces both files atomically.
 *
 * @throws UnsupportedConfigError for a config no architecture represents (ALiBi, relative
 *   or sinusoidal positions, post-norm decoders, another norm/MLP/bias combination, an
 *   encoder with other positions or without segments, MLM with a classifier of ≠ 2 classes).
 */
export async function saveHuggingFace(model: TransformerModel, dir: string, options: SaveHuggingFaceOptions = {}): Promise<void> {
  const config = configToHuggingFace(model.config, options.extraConfig);
  const tensors = weightsToHuggingFace(model.config, model.getWeights());
  const bytes = writeSafetensors(
    tensors.map(([name, t]): [string, SafetensorsTensorInput] => [name, { dtype: 'F32', shape: t.shape, data: t.data }]),
    { format: 'pt' },
  );
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'model.safetensors'), bytes);
  await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

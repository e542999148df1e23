/**
 * GGUF models (llama.cpp) as a {@link GPT}: the metadata of `general.architecture` `llama` or
 * `gpt2` becomes a Hugging Face `config.json`, llama.cpp's tensor names become Hugging Face's, and
 * the Hugging Face table (`huggingface.ts`) does the rest, with its checks for missing, misshapen
 * and unexpected tensors. Two layouts differ from Hugging Face's, as llama.cpp's
 * `convert_hf_to_gguf.py` writes them:
 *
 * - Llama `attn_q`/`attn_k`: each head's rows are interleaved for ggml's RoPE (pairs `(2i, 2i+1)`);
 *   Hugging Face (and wasmformer) rotate `(i, i + D/2)`. Undone here:
 *   `hf[h·D + half·D/2 + i] = gguf[h·D + 2i + half]`.
 * - GPT-2 matrices are stored `[out, in]` (transposed from Hugging Face's `Conv1D`), and the tied
 *   head as its own `output.weight`.
 *
 * A file without `output.weight` has tied embeddings. The vocabulary size is the length of
 * `tokenizer.ggml.tokens` (else `<arch>.vocab_size`, else the rows of `token_embd`).
 */
import { CheckpointError, UnsupportedConfigError } from '../errors.js';
import { GPT } from '../models/gpt.js';
import type { NamedTensor } from '../models/transformer.js';
import { type GgufFile, type GgufValue, decodeGgufTensor, readGguf } from './gguf.js';
import { type HuggingFaceConfig, configFromHuggingFace, weightsFromHuggingFace } from './huggingface.js';

/** Options of {@link loadGguf}. */
export interface LoadGgufOptions {
  /** Dropout for fine-tuning (default 0). */
  dropout?: number;
  /** A file name, included in error messages. */
  source?: string;
}

/** The GGUF architectures {@link loadGguf} reads. */
export type GgufArch = 'llama' | 'gpt2';

/** llama.cpp's per-layer tensor names → Hugging Face's, per architecture (`{l}` = layer). */
const LAYER_NAMES: Readonly<Record<GgufArch, Readonly<Record<string, string>>>> = {
  llama: {
    'attn_norm.weight': 'model.layers.{l}.input_layernorm.weight',
    'attn_q.weight': 'model.layers.{l}.self_attn.q_proj.weight',
    'attn_k.weight': 'model.layers.{l}.self_attn.k_proj.weight',
    'attn_v.weight': 'model.layers.{l}.self_attn.v_proj.weight',
    'attn_output.weight': 'model.layers.{l}.self_attn.o_proj.weight',
    'ffn_norm.weight': 'model.layers.{l}.post_attention_layernorm.weight',
    'ffn_gate.weight': 'model.layers.{l}.mlp.gate_proj.weight',
    'ffn_up.weight': 'model.layers.{l}.mlp.up_proj.weight',
    'ffn_down.weight': 'model.layers.{l}.mlp.down_proj.weight',
  },
  gpt2: {
    'attn_norm.weight': 'transformer.h.{l}.ln_1.weight',
    'attn_norm.bias': 'transformer.h.{l}.ln_1.bias',
    'attn_qkv.weight': 'transformer.h.{l}.attn.c_attn.weight',
    'attn_qkv.bias': 'transformer.h.{l}.attn.c_attn.bias',
    'attn_output.weight': 'transformer.h.{l}.attn.c_proj.weight',
    'attn_output.bias': 'transformer.h.{l}.attn.c_proj.bias',
    'ffn_norm.weight': 'transformer.h.{l}.ln_2.weight',
    'ffn_norm.bias': 'transformer.h.{l}.ln_2.bias',
    'ffn_up.weight': 'transformer.h.{l}.mlp.c_fc.weight',
    'ffn_up.bias': 'transformer.h.{l}.mlp.c_fc.bias',
    'ffn_down.weight': 'transformer.h.{l}.mlp.c_proj.weight',
    'ffn_down.bias': 'transformer.h.{l}.mlp.c_proj.bias',
  },
};

/** llama.cpp's model-level tensor names → Hugging Face's. */
const GLOBAL_NAMES: Readonly<Record<GgufArch, Readonly<Record<string, string>>>> = {
  llama: {
    'token_embd.weight': 'model.embed_tokens.weight',
    'output_norm.weight': 'model.norm.weight',
    'output.weight': 'lm_head.weight',
  },
  gpt2: {
    'token_embd.weight': 'transformer.wte.weight',
    'position_embd.weight': 'transformer.wpe.weight',
    'output_norm.weight': 'transformer.ln_f.weight',
    'output_norm.bias': 'transformer.ln_f.bias',
    'output.weight': 'lm_head.weight',
  },
};

/** GPT-2 matrices llama.cpp stores `[out, in]` and Hugging Face's Conv1D `[in, out]`. */
const GPT2_TRANSPOSED = /^blk\.\d+\.(attn_qkv|attn_output|ffn_up|ffn_down)\.weight$/;

/** Metadata keys whose presence means a feature wasmformer does not have, and why. */
const REFUSED_KEYS: ReadonlyArray<[string, string]> = [
  ['attention.sliding_window', 'sliding-window attention is not implemented'],
  ['expert_count', 'mixture-of-experts layers are not implemented'],
  ['rope.scaling.type', 'RoPE scaling is not read from GGUF files (only plain RoPE)'],
  ['attention.layer_norm_epsilon', 'a Llama block uses RMSNorm (attention.layer_norm_rms_epsilon)'],
];

function unsupported(key: string, value: unknown, why: string): never {
  throw new UnsupportedConfigError(`GGUF: ${key} = ${JSON.stringify(String(value))} is not supported: ${why}`, key, value);
}

/** The architecture of a parsed GGUF file (`general.architecture`). */
export function ggufArch(file: GgufFile): GgufArch {
  const arch = file.metadata.get('general.architecture');
  if (arch === 'llama' || arch === 'gpt2') return arch;
  return unsupported('general.architecture', arch, "wasmformer loads 'llama' and 'gpt2' GGUF files");
}

/** `<arch>.<key>` as a number (integers and floats of any width), or `fallback` when absent. */
function num(file: GgufFile, key: string, fallback?: number): number {
  const value: GgufValue | undefined = file.metadata.get(key);
  if (value === undefined) {
    if (fallback === undefined) throw new CheckpointError(`GGUF: missing metadata ${JSON.stringify(key)}`);
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return unsupported(
      key,
      value,
      Array.isArray(value) ? 'per-layer values are not supported (one value for every layer)' : 'expected a number',
    );
  }
  return value;
}

/** The vocabulary size: the token list's length, else `<arch>.vocab_size`, else `token_embd`'s rows. */
function vocabSize(file: GgufFile, arch: GgufArch): number {
  const tokens = file.metadata.get('tokenizer.ggml.tokens');
  const declared = file.metadata.get(`${arch}.vocab_size`);
  const fromTokens = Array.isArray(tokens) ? tokens.length : undefined;
  if (fromTokens !== undefined && declared !== undefined && declared !== fromTokens) {
    throw new CheckpointError(`GGUF: ${arch}.vocab_size is ${String(declared)} but tokenizer.ggml.tokens holds ${fromTokens} tokens`);
  }
  if (fromTokens !== undefined) return fromTokens;
  if (declared !== undefined) return num(file, `${arch}.vocab_size`);
  const embd = file.tensors.find((t) => t.name === 'token_embd.weight');
  if (!embd) throw new CheckpointError('GGUF: no tensor "token_embd.weight"');
  return embd.shape[0] ?? 0;
}

/**
 * The Hugging Face `config.json` that a GGUF file's metadata describes.
 * @throws UnsupportedConfigError naming the GGUF key of a feature wasmformer lacks (grouped-query
 *   attention, sliding windows, experts, RoPE scaling, per-layer sizes, another architecture).
 * @throws CheckpointError for missing metadata.
 */
export function ggufToHuggingFaceConfig(file: GgufFile): HuggingFaceConfig {
  const arch = ggufArch(file);
  const k = (key: string): string => `${arch}.${key}`;
  for (const [key, why] of REFUSED_KEYS) {
    if (arch === 'gpt2' && key === 'attention.layer_norm_epsilon') continue;
    const value = file.metadata.get(k(key));
    if (value === undefined || (key === 'expert_count' && value === 0) || (key === 'rope.scaling.type' && value === 'none')) continue;
    unsupported(k(key), value, why);
  }
  const nEmbd = num(file, k('embedding_length'));
  const nHead = num(file, k('attention.head_count'));
  const nKv = num(file, k('attention.head_count_kv'), nHead);
  if (nKv !== nHead)
    unsupported(
      k('attention.head_count_kv'),
      nKv,
      `grouped-query attention is not implemented (needs ${k('attention.head_count')} = ${nHead})`,
    );
  const headDim = nEmbd / nHead;
  for (const key of ['attention.key_length', 'attention.value_length', 'rope.dimension_count']) {
    if (arch === 'gpt2' && key === 'rope.dimension_count') continue;
    const value = num(file, k(key), headDim);
    if (value !== headDim)
      unsupported(
        k(key),
        value,
        `must be ${k('embedding_length')} / ${k('attention.head_count')} = ${headDim} (RoPE on every dim of each head)`,
      );
  }
  const common = { vocab_size: vocabSize(file, arch), tie_word_embeddings: !file.tensors.some((t) => t.name === 'output.weight') };
  if (arch === 'gpt2') {
    const ctx = num(file, k('context_length'));
    return {
      ...common,
      model_type: 'gpt2',
      n_positions: ctx,
      n_ctx: ctx,
      n_layer: num(file, k('block_count')),
      n_head: nHead,
      n_embd: nEmbd,
      n_inner: num(file, k('feed_forward_length'), 4 * nEmbd),
      layer_norm_epsilon: num(file, k('attention.layer_norm_epsilon'), 1e-5),
    };
  }
  return {
    ...common,
    model_type: 'llama',
    max_position_embeddings: num(file, k('context_length')),
    num_hidden_layers: num(file, k('block_count')),
    num_attention_heads: nHead,
    num_key_value_heads: nKv,
    hidden_size: nEmbd,
    intermediate_size: num(file, k('feed_forward_length')),
    rms_norm_eps: num(file, k('attention.layer_norm_rms_epsilon')),
    rope_theta: num(file, k('rope.freq_base'), 10000),
  };
}

/** Llama `attn_q`/`attn_k` `[H·D, C]`: llama.cpp's interleaved rows back to Hugging Face's halves. */
function unpermute(t: NamedTensor, nHead: number): NamedTensor {
  const [rows = 0, cols = 0] = t.shape;
  const d = rows / nHead;
  const out = new Float32Array(t.data.length);
  for (let h = 0; h < nHead; h++)
    for (let half = 0; half < 2; half++)
      for (let i = 0; i < d / 2; i++) {
        const from = (h * d + 2 * i + half) * cols;
        out.set(t.data.subarray(from, from + cols), (h * d + half * (d / 2) + i) * cols);
      }
  return { shape: [rows, cols], data: out };
}

/** `[rows, cols]` → `[cols, rows]`. */
function transpose(t: NamedTensor): NamedTensor {
  const [rows = 0, cols = 0] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = t.data[r * cols + c] as number;
  return { shape: [cols, rows], data: out };
}

/**
 * Every tensor of a GGUF file, decoded to float32 under its Hugging Face name and in Hugging
 * Face's layout.
 * @param nHead - attention heads (Llama: to undo the q/k row permutation).
 * @throws CheckpointError for a tensor llama.cpp's names for this architecture do not include.
 * @throws UnsupportedConfigError for a ggml type other than F32, F16 and Q8_0.
 */
export function ggufToHuggingFaceTensors(file: GgufFile, arch: GgufArch, nHead: number): Map<string, NamedTensor> {
  const out = new Map<string, NamedTensor>();
  for (const info of file.tensors) {
    const layer = /^blk\.(\d+)\.(.+)$/.exec(info.name);
    const pattern = layer ? LAYER_NAMES[arch][layer[2] as string] : GLOBAL_NAMES[arch][info.name];
    if (pattern === undefined) {
      const why = info.name === 'rope_freqs.weight' ? ' (per-frequency RoPE factors, Llama 3 rope scaling, are not implemented)' : '';
      throw new CheckpointError(`GGUF: unexpected tensor ${JSON.stringify(info.name)} for architecture ${arch}${why}`);
    }
    const hf = layer ? pattern.replace('{l}', layer[1] as string) : pattern;
    let t: NamedTensor = { shape: [...info.shape], data: decodeGgufTensor(file, info) };
    if (arch === 'llama' && /^blk\.\d+\.attn_[qk]\.weight$/.test(info.name)) t = unpermute(t, nHead);
    if (arch === 'gpt2' && GPT2_TRANSPOSED.test(info.name)) t = transpose(t);
    out.set(hf, t);
  }
  return out;
}

/**
 * Loads a GGUF file of the Llama family (`general.architecture` `llama`) or GPT-2 (`gpt2`) as a
 * {@link GPT}. F32, F16 and Q8_0 tensors are read; Q8_0 is dequantised exactly (f16 scale × int8,
 * as ggml does), so the model is float32: call `gpt.quantize({ weights: 'int8' })` to run it
 * with 8-bit weights again. Everything is checked (file, metadata, names, shapes) before the
 * model is allocated. The tokenizer in `tokenizer.ggml.*` is not read. Needs `await init()` first.
 *
 * @example
 * ```ts
 * await init();
 * const bytes = new Uint8Array(await (await fetch('tiny-llama-q8_0.gguf')).arrayBuffer());
 * const gpt = loadGguf(bytes).quantize({ weights: 'int8' });
 * gpt.generate([1, 2, 3], { maxNewTokens: 20, temperature: 0 });
 * ```
 * @param bytes - the whole GGUF file (Node: {@link loadGgufFile} reads it from a path).
 * @throws CheckpointError for a malformed file (see {@link readGguf}), missing metadata, or a
 *   missing, misshapen or unexpected tensor.
 * @throws UnsupportedConfigError naming the GGUF key of what wasmformer does not implement:
 *   another architecture, grouped-query attention (`head_count_kv` ≠ `head_count`), sliding
 *   windows, experts, RoPE scaling, a ggml type other than F32/F16/Q8_0.
 */
export function loadGguf(bytes: Uint8Array, options: LoadGgufOptions = {}): GPT {
  const file = readGguf(bytes, options.source === undefined ? {} : { source: options.source });
  const arch = ggufArch(file);
  const hf = ggufToHuggingFaceConfig(file);
  const config = { ...configFromHuggingFace(hf), dropout: options.dropout ?? 0 };
  const nHead = hf[arch === 'gpt2' ? 'n_head' : 'num_attention_heads'] as number;
  // Metadata that describes a far larger model than the tensors hold is refused before allocating.
  const planned = GPT.estimate(config, 1, 1).params / 4;
  const held = file.tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  if (planned > 2 * held + 2 ** 20) {
    throw new CheckpointError(`GGUF: the metadata describes a model of ${planned} parameters but the tensors hold ${held}`);
  }
  const tensors = ggufToHuggingFaceTensors(file, arch, nHead);
  const gpt = GPT.create(config);
  try {
    const weights = weightsFromHuggingFace(arch, gpt.config, gpt.paramSpecs, tensors);
    gpt.setWeights(weights);
  } catch (error) {
    gpt.dispose();
    throw error;
  }
  return gpt;
}

/**
 * Hugging Face interop, the pure part: ONE table per architecture mapping `config.json` field
 * names and parameter names between Hugging Face (`transformers`) and wasmformer, and the
 * functions that apply it in both directions. File I/O is in `huggingface.node.ts`.
 *
 * | HF `model_type` | wasmformer config                                                      |
 * | --------------- | ---------------------------------------------------------------------- |
 * | `gpt2`          | learned positions, pre-LayerNorm, GELU (tanh) MLP, biases              |
 * | `llama`         | RoPE (rotate_half), pre-RMSNorm, SwiGLU, no biases, H_kv = H            |
 *
 * Layouts: wasmformer linear weights are `[out, in]` (PyTorch `nn.Linear`). GPT-2's HF
 * `Conv1D` stores `[in, out]`, so its four matrices per block are transposed both ways. Llama's
 * `q_proj`, `k_proj`, `v_proj` (`[C, C]` each) are stacked as rows of `c_attn: [3C, C]`.
 * Anything a side cannot represent throws {@link UnsupportedConfigError} naming the field.
 */
import { CheckpointError, UnsupportedConfigError } from '../errors.js';
import type { TransformerConfig, TransformerConfigInput } from '../models/config.js';
import type { NamedTensor } from '../models/transformer.js';

/** The Hugging Face architectures wasmformer reads and writes. */
export type HuggingFaceArch = 'gpt2' | 'llama';

/** A parsed `config.json` (only JSON values). */
export type HuggingFaceConfig = Record<string, unknown>;

/** One config field: our name, HF's name, HF's class default (used when config.json omits it). */
interface ConfigField {
  ours: 'vocabSize' | 'blockSize' | 'nLayer' | 'nHead' | 'nEmbd' | 'ffnHidden' | 'normEps' | 'ropeBase' | 'tieEmbeddings';
  hf: string;
  default: number | boolean | null;
}

/** One parameter: our name, HF's name(s) (stacked along dim 0), `{l}` = layer index. */
interface ParamField {
  ours: string;
  hf: readonly string[];
  /** HF stores the transpose (`Conv1D`, `[in, out]`). */
  transpose?: boolean;
}

interface ArchTable {
  /** `architectures[0]` written to config.json. */
  className: string;
  /** Prefix of every HF name except `lm_head.weight` (absent in base-model checkpoints). */
  prefix: string;
  config: readonly ConfigField[];
  params: readonly ParamField[];
  /** HF non-parameter buffers some checkpoints contain; ignored on load. */
  buffers: RegExp;
}

/** THE table: every name wasmformer maps, both directions. */
export const HF_TABLE: Readonly<Record<HuggingFaceArch, ArchTable>> = {
  gpt2: {
    className: 'GPT2LMHeadModel',
    prefix: 'transformer.',
    config: [
      { ours: 'vocabSize', hf: 'vocab_size', default: 50257 },
      { ours: 'blockSize', hf: 'n_positions', default: 1024 },
      { ours: 'nLayer', hf: 'n_layer', default: 12 },
      { ours: 'nHead', hf: 'n_head', default: 12 },
      { ours: 'nEmbd', hf: 'n_embd', default: 768 },
      { ours: 'ffnHidden', hf: 'n_inner', default: null }, // null: 4 · n_embd
      { ours: 'normEps', hf: 'layer_norm_epsilon', default: 1e-5 },
      { ours: 'tieEmbeddings', hf: 'tie_word_embeddings', default: true },
    ],
    params: [
      { ours: 'transformer.wte.weight', hf: ['transformer.wte.weight'] },
      { ours: 'transformer.wpe.weight', hf: ['transformer.wpe.weight'] },
      { ours: 'transformer.h.{l}.ln_1.weight', hf: ['transformer.h.{l}.ln_1.weight'] },
      { ours: 'transformer.h.{l}.ln_1.bias', hf: ['transformer.h.{l}.ln_1.bias'] },
      { ours: 'transformer.h.{l}.attn.c_attn.weight', hf: ['transformer.h.{l}.attn.c_attn.weight'], transpose: true },
      { ours: 'transformer.h.{l}.attn.c_attn.bias', hf: ['transformer.h.{l}.attn.c_attn.bias'] },
      { ours: 'transformer.h.{l}.attn.c_proj.weight', hf: ['transformer.h.{l}.attn.c_proj.weight'], transpose: true },
      { ours: 'transformer.h.{l}.attn.c_proj.bias', hf: ['transformer.h.{l}.attn.c_proj.bias'] },
      { ours: 'transformer.h.{l}.ln_2.weight', hf: ['transformer.h.{l}.ln_2.weight'] },
      { ours: 'transformer.h.{l}.ln_2.bias', hf: ['transformer.h.{l}.ln_2.bias'] },
      { ours: 'transformer.h.{l}.mlp.c_fc.weight', hf: ['transformer.h.{l}.mlp.c_fc.weight'], transpose: true },
      { ours: 'transformer.h.{l}.mlp.c_fc.bias', hf: ['transformer.h.{l}.mlp.c_fc.bias'] },
      { ours: 'transformer.h.{l}.mlp.c_proj.weight', hf: ['transformer.h.{l}.mlp.c_proj.weight'], transpose: true },
      { ours: 'transformer.h.{l}.mlp.c_proj.bias', hf: ['transformer.h.{l}.mlp.c_proj.bias'] },
      { ours: 'transformer.ln_f.weight', hf: ['transformer.ln_f.weight'] },
      { ours: 'transformer.ln_f.bias', hf: ['transformer.ln_f.bias'] },
      { ours: 'lm_head.weight', hf: ['lm_head.weight'] },
    ],
    // The causal-mask buffers older GPT-2 checkpoints saved.
    buffers: /^transformer\.h\.\d+\.attn\.(bias|masked_bias)$/,
  },
  llama: {
    className: 'LlamaForCausalLM',
    prefix: 'model.',
    config: [
      { ours: 'vocabSize', hf: 'vocab_size', default: 32000 },
      { ours: 'blockSize', hf: 'max_position_embeddings', default: 2048 },
      { ours: 'nLayer', hf: 'num_hidden_layers', default: 32 },
      { ours: 'nHead', hf: 'num_attention_heads', default: 32 },
      { ours: 'nEmbd', hf: 'hidden_size', default: 4096 },
      { ours: 'ffnHidden', hf: 'intermediate_size', default: 11008 },
      { ours: 'normEps', hf: 'rms_norm_eps', default: 1e-6 },
      { ours: 'ropeBase', hf: 'rope_theta', default: 10000 }, // transformers ≥ 5: rope_parameters.rope_theta
      { ours: 'tieEmbeddings', hf: 'tie_word_embeddings', default: false },
    ],
    params: [
      { ours: 'transformer.wte.weight', hf: ['model.embed_tokens.weight'] },
      { ours: 'transformer.h.{l}.ln_1.weight', hf: ['model.layers.{l}.input_layernorm.weight'] },
      {
        ours: 'transformer.h.{l}.attn.c_attn.weight',
        hf: ['model.layers.{l}.self_attn.q_proj.weight', 'model.layers.{l}.self_attn.k_proj.weight', 'model.layers.{l}.self_attn.v_proj.weight'],
      },
      { ours: 'transformer.h.{l}.attn.c_proj.weight', hf: ['model.layers.{l}.self_attn.o_proj.weight'] },
      { ours: 'transformer.h.{l}.ln_2.weight', hf: ['model.layers.{l}.post_attention_layernorm.weight'] },
      { ours: 'transformer.h.{l}.mlp.c_fc.weight', hf: ['model.layers.{l}.mlp.gate_proj.weight'] },
      { ours: 'transformer.h.{l}.mlp.c_up.weight', hf: ['model.layers.{l}.mlp.up_proj.weight'] },
      { ours: 'transformer.h.{l}.mlp.c_proj.weight', hf: ['model.layers.{l}.mlp.down_proj.weight'] },
      { ours: 'transformer.ln_f.weight', hf: ['model.norm.weight'] },
      { ours: 'lm_head.weight', hf: ['lm_head.weight'] },
    ],
    // The RoPE frequency table older Llama checkpoints saved.
    buffers: /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/,
  },
};

/** The configuration fixed by each architecture (not read from config.json). */
const FIXED: Readonly<Record<HuggingFaceArch, Partial<TransformerConfig>>> = {
  gpt2: { positional: 'learned', norm: 'layernorm', normPlacement: 'pre', ffn: 'gelu', bias: true, causal: true },
  llama: { positional: 'rope', norm: 'rmsnorm', normPlacement: 'pre', ffn: 'swiglu', bias: false, causal: true },
};

function unsupported(field: string, value: unknown, why: string): never {
  throw new UnsupportedConfigError(`Hugging Face config.json: ${field} = ${JSON.stringify(value)} is not supported: ${why}`, field, value);
}

/** A field of config.json, or `fallback` when absent. */
function read(hf: HuggingFaceConfig, field: string, fallback: unknown): unknown {
  return Object.hasOwn(hf, field) ? hf[field] : fallback;
}

/** Requires `field` (default `fallback`) to be one of `allowed`. */
function expect(hf: HuggingFaceConfig, field: string, fallback: unknown, allowed: readonly unknown[], why: string): void {
  const value = read(hf, field, fallback);
  if (!allowed.includes(value)) unsupported(field, value, why);
}

/** The architecture of a config.json, from `model_type`. */
export function huggingFaceArch(hf: HuggingFaceConfig): HuggingFaceArch {
  const type = hf.model_type;
  if (type === 'gpt2' || type === 'llama') return type;
  return unsupported('model_type', type, "wasmformer reads 'gpt2' and 'llama' checkpoints");
}

/** The RoPE settings of a Llama config: `rope_theta` / `rope_scaling` (transformers 4) or `rope_parameters` (5). */
function llamaRope(hf: HuggingFaceConfig): number {
  const params = read(hf, 'rope_parameters', null);
  if (params !== null && typeof params === 'object' && !Array.isArray(params)) {
    const p = params as Record<string, unknown>;
    const type = p.rope_type ?? p.type ?? 'default';
    if (type !== 'default') unsupported('rope_parameters.rope_type', type, "only 'default' RoPE (no scaling) is implemented");
    const theta = p.rope_theta ?? read(hf, 'rope_theta', 10000);
    if (typeof theta !== 'number') unsupported('rope_parameters.rope_theta', theta, 'must be a number');
    return theta;
  }
  const scaling = read(hf, 'rope_scaling', null);
  if (scaling !== null) unsupported('rope_scaling', scaling, 'RoPE scaling is not implemented; only null is');
  const theta = read(hf, 'rope_theta', 10000);
  if (typeof theta !== 'number') unsupported('rope_theta', theta, 'must be a number');
  return theta;
}

/**
 * Maps a `config.json` to a wasmformer config. Dropout is not read (HF's `*_pdrop` are
 * training choices; pass your own), everything that changes the function the model computes
 * is either mapped or refused.
 *
 * @throws UnsupportedConfigError naming the first field wasmformer cannot represent.
 */
export function configFromHuggingFace(hf: HuggingFaceConfig): TransformerConfigInput {
  const arch = huggingFaceArch(hf);
  const table = HF_TABLE[arch];
  const mapped: Record<string, unknown> = {};
  for (const field of table.config) {
    if (field.ours === 'ropeBase') continue;
    const value = read(hf, field.hf, field.default);
    if (value === null && field.ours === 'ffnHidden') continue; // n_inner null → 4C (our default too)
    const ok = field.ours === 'tieEmbeddings' ? typeof value === 'boolean' : typeof value === 'number' && Number.isFinite(value);
    if (!ok) unsupported(field.hf, value, `expected a ${field.ours === 'tieEmbeddings' ? 'boolean' : 'number'}`);
    mapped[field.ours] = value;
  }
  if (arch === 'gpt2') {
    if (!Object.hasOwn(hf, 'n_positions') && typeof hf.n_ctx === 'number') mapped.blockSize = hf.n_ctx;
    expect(hf, 'activation_function', 'gelu_new', ['gelu_new', 'gelu_pytorch_tanh'], 'the GELU MLP uses the tanh form (gelu_new)');
    expect(hf, 'scale_attn_weights', true, [true], 'attention scores are always scaled by 1/√D');
    expect(hf, 'scale_attn_by_inverse_layer_idx', false, [false], 'per-layer score scaling is not implemented');
    expect(hf, 'add_cross_attention', false, [false], 'cross-attention is not implemented');
  } else {
    mapped.ropeBase = llamaRope(hf);
    const nHead = mapped.nHead as number;
    expect(hf, 'num_key_value_heads', nHead, [nHead, null], `grouped-query attention is not implemented (needs num_key_value_heads = num_attention_heads = ${nHead})`);
    const headDim = (mapped.nEmbd as number) / nHead;
    expect(hf, 'head_dim', headDim, [headDim, null], `head_dim must be hidden_size / num_attention_heads = ${headDim}`);
    expect(hf, 'hidden_act', 'silu', ['silu'], "the gated MLP is SwiGLU (hidden_act 'silu')");
    expect(hf, 'attention_bias', false, [false], 'Llama-style models have no biases in wasmformer');
    expect(hf, 'mlp_bias', false, [false], 'Llama-style models have no biases in wasmformer');
    expect(hf, 'pretraining_tp', 1, [1, null], 'tensor-parallel slicing (pretraining_tp > 1) is not implemented');
  }
  return { ...FIXED[arch], ...mapped, dropout: 0 } as TransformerConfigInput;
}

function refuse(field: string, value: unknown, why: string): never {
  throw new UnsupportedConfigError(`saveHuggingFace: config.${field} = ${JSON.stringify(value)} cannot be represented: ${why}`, field, value);
}

/**
 * The architecture a wasmformer config is saved as: learned positions → GPT-2, RoPE → Llama.
 * @throws UnsupportedConfigError naming the first field neither architecture can hold.
 */
export function huggingFaceArchFor(c: TransformerConfig): HuggingFaceArch {
  if (!c.causal) refuse('causal', c.causal, 'GPT-2 and Llama are causal decoders');
  if (c.normPlacement !== 'pre') refuse('normPlacement', c.normPlacement, 'GPT-2 and Llama are pre-norm');
  let arch: HuggingFaceArch;
  if (c.positional === 'learned') arch = 'gpt2';
  else if (c.positional === 'rope') arch = 'llama';
  else return refuse('positional', c.positional, "only 'learned' (GPT-2) and 'rope' (Llama) have a Hugging Face equivalent here");
  // RoPE scaling has no mapping to rope_parameters yet: refuse rather than drop it.
  if (c.ropeScaling !== null) refuse('ropeScaling', c.ropeScaling, 'RoPE scaling is not mapped to rope_parameters yet');
  if (c.lmHead !== 'plain') refuse('lmHead', c.lmHead, "a causal LM checkpoint needs lmHead 'plain'");
  for (const [key, plain] of [['typeVocabSize', 0], ['embeddingNorm', false], ['geluExact', false], ['nClasses', 0]] as const) {
    if (c[key] !== plain) refuse(key, c[key], `GPT-2 and Llama have no such option (needs ${JSON.stringify(plain)})`);
  }
  const fixed = FIXED[arch];
  for (const key of ['norm', 'ffn', 'bias'] as const) {
    if (c[key] !== fixed[key]) refuse(key, c[key], `a ${arch === 'gpt2' ? 'GPT-2' : 'Llama'} checkpoint needs ${key} = ${JSON.stringify(fixed[key])}`);
  }
  return arch;
}

/**
 * The `config.json` of a wasmformer config. Our `dropout` (embeddings and residual branches)
 * becomes GPT-2's `embd_pdrop` and `resid_pdrop`; attention probabilities are never dropped.
 * @param extra - fields written first (e.g. `bos_token_id`); mapped fields win over them.
 * @throws UnsupportedConfigError (see {@link huggingFaceArchFor}).
 */
export function configToHuggingFace(c: TransformerConfig, extra: HuggingFaceConfig = {}): HuggingFaceConfig {
  const arch = huggingFaceArchFor(c);
  const table = HF_TABLE[arch];
  // Token ids belong to the tokenizer: null unless `extra` gives them (HF's class defaults,
  // e.g. GPT-2's 50256, would point outside a small vocabulary).
  const out: HuggingFaceConfig = { bos_token_id: null, eos_token_id: null, ...extra, architectures: [table.className], model_type: arch, dtype: 'float32' };
  for (const field of table.config) out[field.hf] = c[field.ours];
  if (arch === 'gpt2') {
    Object.assign(out, {
      activation_function: 'gelu_new',
      embd_pdrop: c.dropout,
      resid_pdrop: c.dropout,
      attn_pdrop: 0,
      scale_attn_weights: true,
      scale_attn_by_inverse_layer_idx: false,
      reorder_and_upcast_attn: false,
      add_cross_attention: false,
    });
  } else {
    Object.assign(out, {
      hidden_act: 'silu',
      num_key_value_heads: c.nHead,
      head_dim: c.nEmbd / c.nHead,
      attention_bias: false,
      mlp_bias: false,
      attention_dropout: 0,
      pretraining_tp: 1,
      rope_scaling: null,
    });
  }
  return out;
}

/** Expands `{l}` for every layer: [ours, hf names, transpose] per parameter of `c`. */
function* paramPairs(arch: HuggingFaceArch, c: TransformerConfig): Generator<[string, string[], boolean]> {
  for (const p of HF_TABLE[arch].params) {
    if (p.ours === 'lm_head.weight' && c.tieEmbeddings) continue;
    const layers = p.ours.includes('{l}') ? c.nLayer : 1;
    for (let l = 0; l < layers; l++) {
      const at = (name: string): string => name.replace('{l}', String(l));
      yield [at(p.ours), p.hf.map(at), p.transpose === true];
    }
  }
}

/** `[rows, cols]` → `[cols, rows]`. */
function transpose2d(t: NamedTensor): NamedTensor {
  const [rows = 0, cols = 0] = t.shape;
  const out = new Float32Array(t.data.length);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = t.data[r * cols + k] as number;
  return { shape: [cols, rows], data: out };
}

/**
 * Converts HF tensors (already float32) to our named weights.
 *
 * @param specs - the parameters of the model built from `c` (`model.paramSpecs`): names and shapes.
 * @param tensors - every tensor of the checkpoint, HF names (with or without the
 *   `transformer.` / `model.` prefix of base-model checkpoints).
 * @throws CheckpointError for a missing, misshapen or unexpected tensor, naming it.
 */
export function weightsFromHuggingFace(
  arch: HuggingFaceArch,
  c: TransformerConfig,
  specs: ReadonlyArray<{ name: string; shape: readonly number[] }>,
  tensors: ReadonlyMap<string, NamedTensor>,
): Map<string, NamedTensor> {
  const table = HF_TABLE[arch];
  const shapes = new Map(specs.map((s) => [s.name, [...s.shape]]));
  const byName = new Map<string, NamedTensor>();
  for (const [name, t] of tensors) {
    const full = name === 'lm_head.weight' || name.startsWith(table.prefix) ? name : table.prefix + name;
    if (!table.buffers.test(full)) byName.set(full, t);
  }
  const used = new Set<string>();
  const take = (name: string, shape: number[]): NamedTensor => {
    const t = byName.get(name);
    if (!t) throw new CheckpointError(`Hugging Face checkpoint: missing tensor '${name}'`);
    if (t.shape.join('×') !== shape.join('×')) {
      throw new CheckpointError(`Hugging Face checkpoint: '${name}' has shape [${t.shape}], expected [${shape}] for this config.json`);
    }
    used.add(name);
    return t;
  };
  const out = new Map<string, NamedTensor>();
  for (const [ours, hf, transpose] of paramPairs(arch, c)) {
    const shape = shapes.get(ours);
    if (!shape) throw new CheckpointError(`Hugging Face mapping: the model has no parameter '${ours}' (table and model disagree)`);
    if (transpose) {
      out.set(ours, transpose2d(take(hf[0] as string, [shape[1] as number, shape[0] as number])));
    } else if (hf.length === 1) {
      out.set(ours, { shape, data: take(hf[0] as string, shape).data });
    } else {
      const rows = (shape[0] as number) / hf.length;
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      hf.forEach((name, i) => data.set(take(name, [rows, ...shape.slice(1)]).data, i * (data.length / hf.length)));
      out.set(ours, { shape, data });
    }
  }
  if (c.tieEmbeddings && byName.has('lm_head.weight')) {
    // Some tied checkpoints store the head anyway; it must be the embedding.
    const head = byName.get('lm_head.weight') as NamedTensor;
    const wte = out.get('transformer.wte.weight') as NamedTensor;
    if (head.data.length !== wte.data.length || head.data.some((x, i) => x !== wte.data[i])) {
      throw new CheckpointError("Hugging Face checkpoint: tie_word_embeddings is true but 'lm_head.weight' differs from the token embedding");
    }
    used.add('lm_head.weight');
  }
  const unmapped = specs.filter((s) => !out.has(s.name)).map((s) => s.name);
  if (unmapped.length > 0) throw new CheckpointError(`Hugging Face mapping: no Hugging Face name for ${unmapped.join(', ')}`);
  const extra = [...byName.keys()].filter((k) => !used.has(k));
  if (extra.length > 0) throw new CheckpointError(`Hugging Face checkpoint: unexpected tensors ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`);
  return out;
}

/**
 * Converts our named weights to HF tensors (float32, HF layout), in name order.
 * @throws UnsupportedConfigError (see {@link huggingFaceArchFor}); CheckpointError for a missing tensor.
 */
export function weightsToHuggingFace(c: TransformerConfig, weights: ReadonlyMap<string, NamedTensor>): Array<[string, NamedTensor]> {
  const arch = huggingFaceArchFor(c);
  const out: Array<[string, NamedTensor]> = [];
  const used = new Set<string>();
  for (const [ours, hf, transpose] of paramPairs(arch, c)) {
    const t = weights.get(ours);
    if (!t) throw new CheckpointError(`saveHuggingFace: the model has no tensor '${ours}'`);
    used.add(ours);
    if (transpose) {
      out.push([hf[0] as string, transpose2d(t)]);
      continue;
    }
    const part = t.data.length / hf.length;
    const shape = [(t.shape[0] as number) / hf.length, ...t.shape.slice(1)];
    hf.forEach((name, i) => out.push([name, { shape, data: t.data.slice(i * part, (i + 1) * part) }]));
  }
  const unmapped = [...weights.keys()].filter((k) => !used.has(k));
  if (unmapped.length > 0) throw new CheckpointError(`saveHuggingFace: no Hugging Face name for ${unmapped.join(', ')}`);
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

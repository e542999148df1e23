/**
 * The GPT-NeoX part of the Hugging Face mapping (`model_type: 'gpt_neox'`, `GPTNeoXForCausalLM`,
 * `modeling_gpt_neox.py`): its table, its config.json fields both ways, and the row order of its
 * fused attention projection.
 *
 * With `use_parallel_residual: false`, a GPT-NeoX block is ours with RoPE, LayerNorm (with
 * bias), biased linears and a GELU MLP: `x += dense(attn(input_layernorm(x)))`, then
 * `x += mlp(post_attention_layernorm(x))`. Rotary acts on the first `⌊D · partial_rotary_factor⌋`
 * dims of each head (rotate-half within them, frequencies over those dims), which is our
 * `ropeFraction`. `hidden_act` 'gelu' is the exact (erf) GELU, 'gelu_new' /
 * 'gelu_pytorch_tanh' the tanh form. Pythia's default `use_parallel_residual: true`
 * (`x + attn(ln_1(x)) + mlp(ln_2(x))`) is a different block and is refused.
 *
 * `query_key_value` is one `nn.Linear(C, 3C)` whose output is viewed as `[H, 3, D]` (each
 * head's q, k, v together); ours, `c_attn: [3C, C]`, is `[3, H, D]` (all q, then k, then v).
 * {@link neoxQkvFromHuggingFace} and {@link neoxQkvToHuggingFace} reorder the rows.
 */
import type { TransformerConfig } from '../models/config.js';
import type { NamedTensor } from '../models/transformer.js';
import type { ArchTable, HuggingFaceConfig } from './huggingface.js';
import { llamaRope, llamaRopeScalingToHuggingFace, read, unsupported } from './huggingface-rope.js';

/** The GPT-NeoX row of the mapping table (see `HF_TABLE`). */
export const NEOX_TABLE: ArchTable = {
  className: 'GPTNeoXForCausalLM',
  prefix: 'gpt_neox.',
  unprefixed: /^(embed_out|lm_head)\.weight$/,
  config: [
    { ours: 'vocabSize', hf: 'vocab_size', default: 50432 },
    { ours: 'blockSize', hf: 'max_position_embeddings', default: 2048 },
    { ours: 'nLayer', hf: 'num_hidden_layers', default: 44 },
    { ours: 'nHead', hf: 'num_attention_heads', default: 64 },
    { ours: 'nEmbd', hf: 'hidden_size', default: 6144 },
    { ours: 'ffnHidden', hf: 'intermediate_size', default: 24576 },
    { ours: 'normEps', hf: 'layer_norm_eps', default: 1e-5 },
    { ours: 'ropeBase', hf: 'rotary_emb_base', default: 10000 }, // transformers ≥ 5: rope_parameters.rope_theta
    { ours: 'tieEmbeddings', hf: 'tie_word_embeddings', default: false },
  ],
  params: [
    { ours: 'transformer.wte.weight', hf: ['gpt_neox.embed_in.weight'] },
    { ours: 'transformer.h.{l}.ln_1.weight', hf: ['gpt_neox.layers.{l}.input_layernorm.weight'] },
    { ours: 'transformer.h.{l}.ln_1.bias', hf: ['gpt_neox.layers.{l}.input_layernorm.bias'] },
    { ours: 'transformer.h.{l}.attn.c_attn.weight', hf: ['gpt_neox.layers.{l}.attention.query_key_value.weight'], qkvPerHead: true },
    { ours: 'transformer.h.{l}.attn.c_attn.bias', hf: ['gpt_neox.layers.{l}.attention.query_key_value.bias'], qkvPerHead: true },
    { ours: 'transformer.h.{l}.attn.c_proj.weight', hf: ['gpt_neox.layers.{l}.attention.dense.weight'] },
    { ours: 'transformer.h.{l}.attn.c_proj.bias', hf: ['gpt_neox.layers.{l}.attention.dense.bias'] },
    { ours: 'transformer.h.{l}.ln_2.weight', hf: ['gpt_neox.layers.{l}.post_attention_layernorm.weight'] },
    { ours: 'transformer.h.{l}.ln_2.bias', hf: ['gpt_neox.layers.{l}.post_attention_layernorm.bias'] },
    { ours: 'transformer.h.{l}.mlp.c_fc.weight', hf: ['gpt_neox.layers.{l}.mlp.dense_h_to_4h.weight'] },
    { ours: 'transformer.h.{l}.mlp.c_fc.bias', hf: ['gpt_neox.layers.{l}.mlp.dense_h_to_4h.bias'] },
    { ours: 'transformer.h.{l}.mlp.c_proj.weight', hf: ['gpt_neox.layers.{l}.mlp.dense_4h_to_h.weight'] },
    { ours: 'transformer.h.{l}.mlp.c_proj.bias', hf: ['gpt_neox.layers.{l}.mlp.dense_4h_to_h.bias'] },
    { ours: 'transformer.ln_f.weight', hf: ['gpt_neox.final_layer_norm.weight'] },
    { ours: 'transformer.ln_f.bias', hf: ['gpt_neox.final_layer_norm.bias'] },
    { ours: 'lm_head.weight', hf: ['embed_out.weight'], tied: false },
  ],
  // The causal-mask and RoPE buffers older GPT-NeoX checkpoints (transformers 4) saved.
  buffers: /^gpt_neox\.(layers\.\d+\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)|rotary_emb\.inv_freq)$/,
  copies: [{ hf: 'embed_out.weight', ours: 'transformer.wte.weight', tied: true }],
  // transformers 5 names the head `lm_head` in memory (conversion_mapping.py renames
  // `embed_out.` on load); a file saved under that name is read the same.
  aliases: { 'lm_head.weight': 'embed_out.weight' },
};

/** The configuration a GPT-NeoX checkpoint fixes (not read from config.json). */
export const NEOX_FIXED: Readonly<Partial<TransformerConfig>> = {
  positional: 'rope',
  norm: 'layernorm',
  normPlacement: 'pre',
  ffn: 'gelu',
  bias: true,
  causal: true,
};

/** Ours `[3, H, D]` ↔ GPT-NeoX `[H, 3, D]` along dim 0 of `t` (`[3C, C]` or `[3C]`). */
function reorderQkv(t: NamedTensor, nHead: number, toHuggingFace: boolean): NamedTensor {
  const rows = t.shape[0] as number;
  const cols = t.data.length / rows;
  const headDim = rows / (3 * nHead);
  const out = new Float32Array(t.data.length);
  for (let h = 0; h < nHead; h++) {
    for (let j = 0; j < 3; j++) {
      const ours = (j * nHead + h) * headDim * cols;
      const theirs = (h * 3 + j) * headDim * cols;
      const [from, to] = toHuggingFace ? [ours, theirs] : [theirs, ours];
      out.set(t.data.subarray(from, from + headDim * cols), to);
    }
  }
  return { shape: [...t.shape], data: out };
}

/**
 * `query_key_value.{weight,bias}` to our `c_attn`: rows `[H, 3, D]` → `[3, H, D]`.
 * @param t - `[3C, C]` (weight) or `[3C]` (bias), Hugging Face row order.
 * @param nHead - H.
 * @returns the same shape, our row order.
 */
export function neoxQkvFromHuggingFace(t: NamedTensor, nHead: number): NamedTensor {
  return reorderQkv(t, nHead, false);
}

/**
 * Our `c_attn.{weight,bias}` to `query_key_value`: rows `[3, H, D]` → `[H, 3, D]`.
 * @param t - `[3C, C]` (weight) or `[3C]` (bias), our row order.
 * @param nHead - H.
 * @returns the same shape, Hugging Face row order.
 */
export function neoxQkvToHuggingFace(t: NamedTensor, nHead: number): NamedTensor {
  return reorderQkv(t, nHead, true);
}

const isDict = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The RoPE settings of a GPT-NeoX config.json, read as transformers 5 does
 * (`GPTNeoXConfig.convert_rope_params_to_dict`): a non-empty `rope_scaling` dict, else
 * `rope_parameters`, else `{}`; its `rope_theta` if there, else `rotary_emb_base` (default
 * 10000); its `partial_rotary_factor` if there, else `rotary_pct` (default 0.25; top-level
 * `rope_theta` and `partial_rotary_factor` are not read). The `rope_type` then follows the
 * Llama rules (`llamaRope`: 'default', 'linear', 'yarn'; others refused); both compute the
 * frequencies over the rotated dims.
 */
function neoxRope(hf: HuggingFaceConfig): Pick<TransformerConfig, 'ropeBase' | 'ropeScaling' | 'ropeFraction'> {
  const scaling = read(hf, 'rope_scaling', null) ?? null;
  if (scaling !== null && !isDict(scaling)) unsupported('rope_scaling', scaling, 'expected null or an object { rope_type, factor }');
  const fromScaling = isDict(scaling) && Object.keys(scaling).length > 0;
  const field = fromScaling ? 'rope_scaling' : 'rope_parameters';
  const params = fromScaling ? scaling : (read(hf, 'rope_parameters', null) ?? null);
  if (params !== null && !isDict(params))
    unsupported(field, params, 'expected null or an object { rope_type, rope_theta, partial_rotary_factor }');
  const { partial_rotary_factor: ownPartial, ...rest } = params ?? {};
  const theta = Object.hasOwn(rest, 'rope_theta') ? rest.rope_theta : read(hf, 'rotary_emb_base', 10000);
  if (typeof theta !== 'number' || !Number.isFinite(theta) || !(theta > 0))
    unsupported(Object.hasOwn(rest, 'rope_theta') ? `${field}.rope_theta` : 'rotary_emb_base', theta, 'must be a number > 0');
  const partialField = params !== null && Object.hasOwn(params, 'partial_rotary_factor') ? `${field}.partial_rotary_factor` : 'rotary_pct';
  const partial = partialField === 'rotary_pct' ? read(hf, 'rotary_pct', 0.25) : ownPartial;
  const nEmbd = read(hf, 'hidden_size', NEOX_TABLE.config[4]?.default);
  const nHead = read(hf, 'num_attention_heads', NEOX_TABLE.config[3]?.default);
  const headDim = typeof nEmbd === 'number' && typeof nHead === 'number' ? nEmbd / nHead : Number.NaN;
  if (typeof partial !== 'number' || !(partial > 0 && partial <= 1))
    return unsupported(partialField, partial, 'must be a number in (0, 1] (the fraction of each head that rotates)');
  const rotated = Math.floor(headDim * partial);
  if (partial < 1 && (rotated < 2 || rotated % 2 !== 0)) {
    unsupported(
      partialField,
      partial,
      `rotates ${rotated} of ${headDim} dims per head; wasmformer rotates an even number >= 2 (transformers would rotate ${2 * Math.ceil(rotated / 2)} with frequencies over ${rotated})`,
    );
  }
  // The Llama reader with these settings in its own spelling (rope_theta inside the dict).
  const { ropeBase, ropeScaling } = llamaRope({
    max_position_embeddings: read(hf, 'max_position_embeddings', NEOX_TABLE.config[1]?.default),
    ...(Object.hasOwn(hf, 'original_max_position_embeddings')
      ? { original_max_position_embeddings: hf.original_max_position_embeddings }
      : {}),
    [field]: { ...rest, rope_theta: theta },
  });
  return { ropeBase, ropeScaling, ropeFraction: partial };
}

/**
 * The GPT-NeoX-only part of a config.json, mapped (`ropeBase`, `ropeScaling`, `ropeFraction`,
 * `geluExact`) or refused. The table's size fields are read by the caller.
 * @throws UnsupportedConfigError naming the first field wasmformer cannot represent.
 */
export function neoxConfigFromHuggingFace(
  hf: HuggingFaceConfig,
): Pick<TransformerConfig, 'ropeBase' | 'ropeScaling' | 'ropeFraction' | 'geluExact'> {
  const parallel = read(hf, 'use_parallel_residual', true);
  if (parallel !== false) {
    unsupported(
      'use_parallel_residual',
      parallel,
      'wasmformer has no parallel-residual block (x + attn(ln_1(x)) + mlp(ln_2(x)), the GPT-NeoX / Pythia default); ' +
        'only the sequential block (use_parallel_residual: false) is mapped',
    );
  }
  const act = read(hf, 'hidden_act', 'gelu');
  if (act !== 'gelu' && act !== 'gelu_new' && act !== 'gelu_pytorch_tanh')
    unsupported('hidden_act', act, "the MLP is GELU: exact ('gelu') or the tanh form ('gelu_new', 'gelu_pytorch_tanh')");
  const attentionBias = read(hf, 'attention_bias', true);
  if (attentionBias !== true)
    unsupported('attention_bias', attentionBias, "wasmformer's biases are all or none, and GPT-NeoX's LayerNorms and MLP always have them");
  const nEmbd = read(hf, 'hidden_size', NEOX_TABLE.config[4]?.default);
  const nHead = read(hf, 'num_attention_heads', NEOX_TABLE.config[3]?.default);
  if (typeof nEmbd === 'number' && typeof nHead === 'number') {
    const headDim = nEmbd / nHead;
    const given = read(hf, 'head_dim', null);
    if (given !== null && given !== headDim) unsupported('head_dim', given, `must be hidden_size / num_attention_heads = ${headDim}`);
  }
  return { ...neoxRope(hf), geluExact: act === 'gelu' };
}

/**
 * The GPT-NeoX-only fields of the config.json of `c` (a config {@link NEOX_FIXED} describes):
 * `rope_parameters` as transformers 5 writes them, and `rotary_pct`, `rotary_emb_base` and
 * (when scaled) `rope_scaling` for transformers 4, which reads those (transformers 5 takes a
 * non-empty `rope_scaling` first with `rotary_pct` beside it: the same rule either way).
 * Our `dropout` (embeddings, residual branches) is `hidden_dropout`.
 */
export function neoxConfigToHuggingFace(c: TransformerConfig): HuggingFaceConfig {
  const out: HuggingFaceConfig = {
    hidden_act: c.geluExact ? 'gelu' : 'gelu_new',
    use_parallel_residual: false,
    attention_bias: true,
    rotary_pct: c.ropeFraction,
    rope_scaling: null,
    rope_parameters: { rope_type: 'default', rope_theta: c.ropeBase, partial_rotary_factor: c.ropeFraction },
    hidden_dropout: c.dropout,
    attention_dropout: 0,
    use_cache: true,
  };
  if (c.ropeScaling !== null) {
    const scaled = llamaRopeScalingToHuggingFace(c.ropeScaling, c.ropeBase);
    out.rope_scaling = scaled.rope_scaling;
    out.rope_parameters = { ...(scaled.rope_parameters as Record<string, unknown>), partial_rotary_factor: c.ropeFraction };
  }
  return out;
}

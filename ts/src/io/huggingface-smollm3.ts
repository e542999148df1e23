/**
 * The SmolLM3 part of the Hugging Face mapping (`model_type: 'smollm3'`, `SmolLM3ForCausalLM`,
 * `configuration_smollm3.py` / `modeling_smollm3.py`): its config.json fields both ways. The
 * tensors are named as Llama's (`model.layers.{l}.self_attn.q_proj`, …), so its table is the
 * Llama table with SmolLM3's class defaults.
 *
 * A SmolLM3 block is the Llama block (pre-RMSNorm, SwiGLU, no biases, rotate-half RoPE) whose
 * attention skips RoPE in some layers: `no_rope_layers[l]` is 1 when layer `l` uses RoPE and 0
 * when it is a NoPE layer (`SmolLM3Attention.use_rope`). Absent or null, transformers builds it
 * as `int((l + 1) % no_rope_layer_interval != 0)` (default interval 4: every fourth layer NoPE).
 * The NoPE layers are our `noPositionLayers`. Grouped-query attention (`num_key_value_heads`
 * below `num_attention_heads`; absent means 4, not H) and sliding-window layers are refused.
 */
import type { TransformerConfig } from '../models/config.js';
import type { ConfigField, HuggingFaceConfig } from './huggingface.js';
import { llamaRope, llamaRopeScalingToHuggingFace, read, unsupported } from './huggingface-rope.js';

/** `architectures[0]` of a SmolLM3 checkpoint. */
export const SMOLLM3_CLASS = 'SmolLM3ForCausalLM';

/** SmolLM3's `rope_theta` when config.json gives none (`SmolLM3Config.default_theta`). */
const SMOLLM3_THETA = 2_000_000;

/** The most layers a SmolLM3 config.json may declare (far above any model a 4 GiB wasm memory holds). */
const MAX_LAYERS = 1 << 16;

/** SmolLM3's config fields and `SmolLM3Config`'s defaults (the Llama names, other defaults). */
export const SMOLLM3_CONFIG: readonly ConfigField[] = [
  { ours: 'vocabSize', hf: 'vocab_size', default: 128256 },
  { ours: 'blockSize', hf: 'max_position_embeddings', default: 32768 },
  { ours: 'nLayer', hf: 'num_hidden_layers', default: 36 },
  { ours: 'nHead', hf: 'num_attention_heads', default: 16 },
  { ours: 'nEmbd', hf: 'hidden_size', default: 2048 },
  { ours: 'ffnHidden', hf: 'intermediate_size', default: 11008 },
  { ours: 'normEps', hf: 'rms_norm_eps', default: 1e-6 },
  { ours: 'ropeBase', hf: 'rope_theta', default: SMOLLM3_THETA }, // transformers ≥ 5: rope_parameters.rope_theta
  { ours: 'tieEmbeddings', hf: 'tie_word_embeddings', default: true },
];

/** The NoPE layers of a config.json: `no_rope_layers` (0 = NoPE), else every `no_rope_layer_interval`-th layer. */
function noPositionLayers(hf: HuggingFaceConfig, nLayer: number): number[] {
  const flags = read(hf, 'no_rope_layers', null) ?? null;
  if (flags === null) {
    const interval = read(hf, 'no_rope_layer_interval', 4);
    if (typeof interval !== 'number' || !Number.isInteger(interval) || interval < 1)
      unsupported('no_rope_layer_interval', interval, 'must be an integer >= 1');
    return Array.from({ length: nLayer }, (_, l) => l).filter((l) => (l + 1) % interval === 0);
  }
  if (!Array.isArray(flags) || flags.length < nLayer)
    unsupported('no_rope_layers', flags, `expected a list of at least num_hidden_layers (${nLayer}) entries, 1 = RoPE, 0 = NoPE`);
  const layers: number[] = [];
  for (let l = 0; l < nLayer; l++) {
    // Entries past num_hidden_layers are never read by transformers.
    const flag = flags[l];
    if (flag !== 0 && flag !== 1)
      unsupported('no_rope_layers', flags, `entry ${l} is ${JSON.stringify(flag)}; expected 1 (RoPE) or 0 (NoPE)`);
    if (flag === 0) layers.push(l);
  }
  return layers;
}

/** Refuses sliding-window layers (`layer_types`, or `use_sliding_window` with a `sliding_window`). */
function requireFullAttention(hf: HuggingFaceConfig, nLayer: number, nope: readonly number[]): void {
  const types = read(hf, 'layer_types', null) ?? null;
  if (types !== null) {
    if (!Array.isArray(types) || types.length < nLayer)
      unsupported('layer_types', types, `expected a list of at least num_hidden_layers (${nLayer}) entries`);
    const other = types.slice(0, nLayer).find((t) => t !== 'full_attention');
    if (other !== undefined)
      unsupported('layer_types', types, `'${String(other)}' layers are not implemented (only 'full_attention' is mapped)`);
    return;
  }
  // transformers makes the NoPE layers 'sliding_attention' when both are set.
  const sliding = read(hf, 'use_sliding_window', false);
  const window = read(hf, 'sliding_window', null);
  if (sliding !== false && window !== null && nope.length > 0)
    unsupported('use_sliding_window', sliding, 'sliding-window attention (on the NoPE layers, with sliding_window set) is not implemented');
}

/**
 * The SmolLM3-only part of a config.json, mapped (`ropeBase`, `ropeScaling` as for Llama,
 * `noPositionLayers`) or refused. The table's size fields are read by the caller.
 * @param sizes - `num_hidden_layers`, `num_attention_heads` and `hidden_size`, already read.
 * @throws UnsupportedConfigError naming the first field wasmformer cannot represent.
 */
export function smollm3ConfigFromHuggingFace(
  hf: HuggingFaceConfig,
  sizes: { nLayer: number; nHead: number; nEmbd: number },
): Pick<TransformerConfig, 'ropeBase' | 'ropeScaling' | 'noPositionLayers'> {
  const { nLayer, nHead, nEmbd } = sizes;
  // The NoPE list is built per layer: a count no wasm32 memory could hold is refused here, typed.
  if (!Number.isInteger(nLayer) || nLayer < 1 || nLayer > MAX_LAYERS)
    unsupported('num_hidden_layers', nLayer, `must be an integer in [1, ${MAX_LAYERS}]`);
  // SmolLM3Config's default is 4 key/value heads (null: H).
  const kv = read(hf, 'num_key_value_heads', 4);
  if (kv !== null && kv !== nHead) {
    unsupported(
      'num_key_value_heads',
      kv,
      `grouped-query attention is not implemented (needs num_key_value_heads = num_attention_heads = ${nHead}; SmolLM3's default is 4)`,
    );
  }
  const headDim = nEmbd / nHead;
  const given = read(hf, 'head_dim', null);
  if (given !== null && given !== headDim) unsupported('head_dim', given, `must be hidden_size / num_attention_heads = ${headDim}`);
  const act = read(hf, 'hidden_act', 'silu');
  if (act !== 'silu') unsupported('hidden_act', act, "the gated MLP is SwiGLU (hidden_act 'silu')");
  for (const field of ['attention_bias', 'mlp_bias']) {
    const bias = read(hf, field, false);
    if (bias !== false) unsupported(field, bias, 'Llama-style models have no biases in wasmformer');
  }
  const nope = noPositionLayers(hf, nLayer);
  requireFullAttention(hf, nLayer, nope);
  // The Llama rules, with SmolLM3's default theta when neither rope_parameters nor rope_theta gives one.
  const rope = llamaRope({ ...hf, rope_theta: read(hf, 'rope_theta', SMOLLM3_THETA) });
  return { ...rope, noPositionLayers: nope };
}

/**
 * The SmolLM3-only fields of the config.json of `c` (a Llama-shaped config with NoPE layers):
 * `no_rope_layers` (1 = RoPE, 0 = NoPE), `num_key_value_heads` = H, and the RoPE settings as the
 * Llama mapping writes them (`rope_parameters`, and `rope_scaling` when scaled). `pad_token_id`
 * is null unless `extra` gives one (SmolLM3's default, 128004, would be outside a small vocabulary).
 */
export function smollm3ConfigToHuggingFace(c: TransformerConfig, extra: HuggingFaceConfig): HuggingFaceConfig {
  const nope = new Set(c.noPositionLayers);
  const out: HuggingFaceConfig = {
    pad_token_id: read(extra, 'pad_token_id', null),
    hidden_act: 'silu',
    num_key_value_heads: c.nHead,
    attention_bias: false,
    mlp_bias: false,
    attention_dropout: 0,
    no_rope_layers: Array.from({ length: c.nLayer }, (_, l) => (nope.has(l) ? 0 : 1)),
    use_sliding_window: false,
    sliding_window: null,
    layer_types: Array.from({ length: c.nLayer }, () => 'full_attention'),
    rope_scaling: null,
    rope_parameters: { rope_type: 'default', rope_theta: c.ropeBase },
    use_cache: true,
  };
  if (c.ropeScaling !== null) Object.assign(out, llamaRopeScalingToHuggingFace(c.ropeScaling, c.ropeBase));
  return out;
}

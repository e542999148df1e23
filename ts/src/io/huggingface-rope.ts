/**
 * The RoPE part of the Hugging Face mapping: a Llama config.json's `rope_parameters` /
 * `rope_scaling` to wasmformer's `ropeBase` and `ropeScaling` ('default', 'linear', 'yarn'; every
 * other `rope_type` refused, never approximated) and back, plus the field readers the mapping
 * shares.
 */
import { UnsupportedConfigError } from '../errors.js';
import type { RopeScaling, TransformerConfig } from '../models/config.js';
import type { HuggingFaceConfig } from './huggingface.js';

/** Refuses a config.json field: `UnsupportedConfigError` naming `field` and `value`, saying `why`. */
export function unsupported(field: string, value: unknown, why: string): never {
  throw new UnsupportedConfigError(`Hugging Face config.json: ${field} = ${JSON.stringify(value)} is not supported: ${why}`, field, value);
}

/** A field of config.json, or `fallback` when absent. */
export function read(hf: HuggingFaceConfig, field: string, fallback: unknown): unknown {
  return Object.hasOwn(hf, field) ? hf[field] : fallback;
}

/** The RoPE `rope_type`s that are a different rule from ours, and why (refused, never approximated). */
const ROPE_TYPES_REFUSED: Readonly<Record<string, string>> = {
  dynamic:
    "'dynamic' NTK recomputes the base from the current length T, base · (factor · T / max_position_embeddings − factor + 1)^(D/(D−2)), " +
    "unchanged up to max_position_embeddings; wasmformer's ropeScaling 'ntk' is one fixed base · factor^(D/(D−2)) for every length",
  longrope: 'LongRoPE (per-frequency long/short factors) is not implemented',
  llama3: 'Llama 3 scaling (wavelength-dependent interpolation) is not implemented',
};

/**
 * The RoPE settings of a Llama config.json, read as transformers 5 does: the `rope_scaling`
 * dict (transformers 4 files: `{type | rope_type, factor}` with `rope_theta` beside it) if it
 * is a non-empty object, else `rope_parameters` (transformers 5: `{rope_type, rope_theta, factor}`).
 * `rope_type` 'default' (or none) → no scaling; 'linear' → `ropeScaling: { type: 'linear', factor }`,
 * the same rule (HF divides `inv_freq` by `factor`, we divide positions: `pos · inv_freq` is equal);
 * 'yarn' → `ropeScaling: { type: 'yarn', … }` (see {@link llamaYarn}).
 */
export function llamaRope(hf: HuggingFaceConfig): Pick<TransformerConfig, 'ropeBase' | 'ropeScaling'> {
  const scaling = read(hf, 'rope_scaling', null) ?? null; // undefined (not JSON) as absent
  const isDict = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (scaling !== null && !isDict(scaling)) unsupported('rope_scaling', scaling, 'expected null or an object { rope_type, factor }');
  const fromScaling = isDict(scaling) && Object.keys(scaling).length > 0;
  const field = fromScaling ? 'rope_scaling' : 'rope_parameters';
  const params = fromScaling ? scaling : (read(hf, 'rope_parameters', null) ?? null);
  if (params !== null && !isDict(params)) unsupported(field, params, 'expected null or an object { rope_type, rope_theta, factor }');
  const p = params ?? {};
  const typeKey = Object.hasOwn(p, 'rope_type') || !Object.hasOwn(p, 'type') ? 'rope_type' : 'type';
  const type = p[typeKey] ?? 'default';
  const theta = p.rope_theta ?? read(hf, 'rope_theta', 10000);
  if (typeof theta !== 'number')
    unsupported(Object.hasOwn(p, 'rope_theta') ? `${field}.rope_theta` : 'rope_theta', theta, 'must be a number');
  if (type === 'default') return { ropeBase: theta, ropeScaling: null };
  if (type !== 'linear' && type !== 'yarn') {
    const why = typeof type === 'string' && Object.hasOwn(ROPE_TYPES_REFUSED, type) ? ROPE_TYPES_REFUSED[type] : undefined;
    return unsupported(`${field}.${typeKey}`, type, `${why ?? 'unknown RoPE type'}; only 'default', 'linear' and 'yarn' are mapped`);
  }
  // transformers moves a top-level partial_rotary_factor into the dict; the scaling then rotates only that fraction of D.
  const partial = p.partial_rotary_factor ?? read(hf, 'partial_rotary_factor', 1);
  if (partial !== 1 && partial !== null) {
    unsupported(
      Object.hasOwn(p, 'partial_rotary_factor') ? `${field}.partial_rotary_factor` : 'partial_rotary_factor',
      partial,
      "Llama's attention rotates every dim of each head (partial RoPE is mapped for GPT-NeoX: model_type 'gpt_neox', rotary_pct)",
    );
  }
  if (type === 'yarn') return { ropeBase: theta, ropeScaling: llamaYarn(hf, p, field) };
  const factor = p.factor;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || !(factor > 0))
    unsupported(`${field}.factor`, factor, "'linear' needs a finite number > 0");
  return { ropeBase: theta, ropeScaling: { type: 'linear', factor } };
}

/** The YaRN member of {@link RopeScaling}. */
type YarnScaling = Extract<RopeScaling, { type: 'yarn' }>;

/**
 * A Llama config.json's `rope_type: 'yarn'` as transformers 5 reads it
 * (`standardize_rope_params`, `_compute_yarn_parameters`): `original_max_position_embeddings`
 * from the top level if there, else from the dict, else `max_position_embeddings`; `factor`
 * null → `max_position_embeddings / original`; `beta_fast` / `beta_slow` absent, null or 0 →
 * 32 / 1; `attention_factor` absent → `get_mscale(factor, mscale) / get_mscale(factor,
 * mscale_all_dim)` when both are given (DeepSeek), else left to the default `0.1·ln(factor) + 1`.
 * `truncate: false` (an unrounded ramp) is refused.
 */
function llamaYarn(hf: HuggingFaceConfig, p: Record<string, unknown>, field: string): YarnScaling {
  const maxPositions = read(hf, 'max_position_embeddings', null);
  const original = read(hf, 'original_max_position_embeddings', null) ?? p.original_max_position_embeddings ?? maxPositions;
  if (typeof original !== 'number' || !Number.isInteger(original) || original < 1)
    unsupported(`${field}.original_max_position_embeddings`, original, 'must be an integer >= 1');
  let factor = p.factor;
  if (factor === null || factor === undefined) factor = typeof maxPositions === 'number' ? maxPositions / original : factor;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || !(factor > 0))
    unsupported(`${field}.factor`, factor, "'yarn' needs a finite number > 0");
  if (p.truncate === false)
    unsupported(`${field}.truncate`, false, 'only the rounded correction range (truncate: true, the default) is mapped');
  const beta = (key: 'beta_fast' | 'beta_slow', fallback: number): number => {
    const value = p[key];
    if (value === undefined || value === null || value === 0) return fallback; // HF: `get(key) or default`
    if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0))
      return unsupported(`${field}.${key}`, value, 'must be a number > 0');
    return value;
  };
  const yarn: YarnScaling = {
    type: 'yarn',
    factor,
    originalMaxPositionEmbeddings: original,
    betaFast: beta('beta_fast', 32),
    betaSlow: beta('beta_slow', 1),
  };
  if (!(yarn.betaSlow < yarn.betaFast)) unsupported(`${field}.beta_slow`, yarn.betaSlow, `must be below beta_fast (${yarn.betaFast})`);
  const mscale = (scale: number, m: number): number => (scale <= 1 ? 1 : 0.1 * m * Math.log(scale) + 1);
  const { attention_factor: attention, mscale: m, mscale_all_dim: mAll } = p;
  if (attention !== undefined && attention !== null) {
    if (typeof attention !== 'number' || !Number.isFinite(attention) || !(attention > 0))
      unsupported(`${field}.attention_factor`, attention, 'must be a number > 0');
    yarn.attentionFactor = attention;
  } else if (m && mAll) {
    if (typeof m !== 'number' || typeof mAll !== 'number')
      return unsupported(`${field}.mscale`, m, 'mscale and mscale_all_dim must be numbers');
    yarn.attentionFactor = mscale(factor, m) / mscale(factor, mAll);
  }
  return yarn;
}

/** Why our static NTK scaling is not written as Hugging Face's `rope_type: 'dynamic'`. */
export const ROPE_NTK_ON_SAVE =
  "Hugging Face has no static NTK-aware rule: its 'dynamic' type recomputes the base from the sequence length " +
  "(and leaves it unchanged up to max_position_embeddings), so it computes differently from 'ntk' (fixed base · factor^(D/(D−2))); " +
  "only 'linear' is written (rope_type 'linear')";

/**
 * Our linear or YaRN RoPE scaling in a Llama config.json: `rope_parameters` as transformers 5
 * writes it (`LlamaConfig(rope_parameters=...).save_pretrained`), and the same rule as
 * `rope_scaling` for transformers 4, which ignores `rope_parameters` (transformers 5 reads
 * `rope_scaling` first, with `rope_theta` beside it: the same frequencies either way).
 */
export function llamaRopeScalingToHuggingFace(scaling: RopeScaling, theta: number): HuggingFaceConfig {
  let dict: Record<string, number | string>;
  if (scaling.type === 'yarn') {
    dict = {
      rope_type: 'yarn',
      factor: scaling.factor,
      original_max_position_embeddings: scaling.originalMaxPositionEmbeddings,
      beta_fast: scaling.betaFast,
      beta_slow: scaling.betaSlow,
      ...(scaling.attentionFactor === undefined ? {} : { attention_factor: scaling.attentionFactor }),
    };
  } else {
    dict = { rope_type: 'linear', factor: scaling.factor };
  }
  return { rope_scaling: dict, rope_parameters: { ...dict, rope_theta: theta } };
}

/**
 * The transformer's configuration in TypeScript: GPT-2 / nanoGPT names in camelCase, the
 * field's options, defaults, and validation with typed errors before anything reaches Rust.
 */
import { InvalidArgumentError } from '../errors.js';

/** How positions enter the model. */
export type Positional = 'learned' | 'sinusoidal' | 'none' | 'relative' | 'rope' | 'alibi';
/** Normalisation layer. */
export type NormKind = 'layernorm' | 'rmsnorm';
/** Norm before the sublayer (GPT-2, Llama) or after the residual add (original, BERT). */
export type NormPlacement = 'pre' | 'post';
/** Feed-forward block: GELU MLP or a gated linear unit. */
export type FfnKind = 'gelu' | 'swiglu' | 'geglu' | 'reglu';
/**
 * The per-token output head: `'plain'` logits from the (tied) embedding (GPT), `'mlm'` BERT's
 * masked-LM head (dense + GELU + norm, then the tied decoder with a bias), `'none'`.
 */
export type LmHeadKind = 'plain' | 'mlm' | 'none';

/**
 * RoPE context extension: `'linear'` divides positions by `factor` (position interpolation);
 * `'ntk'` stretches the frequency base by `factor^(D/(D-2))` ("NTK-aware" scaling).
 */
export interface RopeScaling {
  type: 'linear' | 'ntk';
  /** > 0; typically the ratio of the target context to the trained one. */
  factor: number;
}

/** A fully specified transformer configuration. */
export interface TransformerConfig {
  /** V: vocabulary size. */
  vocabSize: number;
  /** Longest training sequence (T). */
  blockSize: number;
  /** L: number of blocks. */
  nLayer: number;
  /** H: attention heads. */
  nHead: number;
  /** C: embedding width, divisible by nHead. */
  nEmbd: number;
  /** F: feed-forward hidden width (default 4C for GELU, 8C/3 rounded up to a multiple of 8 for GLUs). */
  ffnHidden: number;
  positional: Positional;
  norm: NormKind;
  normPlacement: NormPlacement;
  ffn: FfnKind;
  /** Dropout on embeddings and residual branches (attention probabilities are not dropped). */
  dropout: number;
  /** Biases in linear layers and LayerNorms. */
  bias: boolean;
  /** Output head shares the token embedding. */
  tieEmbeddings: boolean;
  /** RoPE frequency base. */
  ropeBase: number;
  /** RoPE position scaling for contexts past the trained one (`null`: none). */
  ropeScaling: RopeScaling | null;
  /** Buckets of the learned relative-position bias (`positional: 'relative'`). */
  relativeBuckets: number;
  /** Distance at which relative buckets saturate. */
  relativeMaxDistance: number;
  /** Norm epsilon. */
  normEps: number;
  /** Decoder (causal mask) or encoder. */
  causal: boolean;
  /** Segment (token type) embeddings, 0 = none (BERT: 2). */
  typeVocabSize: number;
  /** A norm on the summed embeddings before the first block (BERT). */
  embeddingNorm: boolean;
  /** Exact (erf) GELU, as BERT; false = the tanh form of GPT-2. */
  geluExact: boolean;
  /** Per-token output head. */
  lmHead: LmHeadKind;
  /** Classes of a classifier on the first token's pooled state (0 = none; NSP = 2). */
  nClasses: number;
}

/** What a user passes: sizes are required, everything else has a default. */
export type TransformerConfigInput = Pick<TransformerConfig, 'vocabSize' | 'blockSize'> &
  Partial<Omit<TransformerConfig, 'vocabSize' | 'blockSize'>>;

const CHOICES = {
  positional: ['learned', 'sinusoidal', 'none', 'relative', 'rope', 'alibi'],
  norm: ['layernorm', 'rmsnorm'],
  normPlacement: ['pre', 'post'],
  ffn: ['gelu', 'swiglu', 'geglu', 'reglu'],
  lmHead: ['plain', 'mlm', 'none'],
} as const;

/** GLU hidden width that keeps the parameter count of a 4C GELU MLP: 8C/3, rounded up to 8. */
export function gluHidden(nEmbd: number): number {
  return Math.ceil((8 * nEmbd) / 3 / 8) * 8;
}

function integer(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`config.${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function choice<T extends string>(name: string, value: unknown, options: readonly T[]): T {
  if (typeof value !== 'string' || !(options as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(
      `config.${name} must be one of ${options.map((o) => `'${o}'`).join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}

function bool(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`config.${name} must be a boolean, got ${String(value)}`);
  return value;
}

/**
 * Fills defaults (nanoGPT's GPT-2: 12 layers, 12 heads, 768 wide, learned positions,
 * pre-LayerNorm, GELU, biases, tied embeddings, no dropout) and validates every field.
 *
 * @throws InvalidArgumentError naming the field, what was given and what is allowed.
 */
export function resolveConfig(input: TransformerConfigInput, defaults: Partial<TransformerConfig> = {}): TransformerConfig {
  if (typeof input !== 'object' || input === null) throw new InvalidArgumentError('config must be an object');
  const known = new Set<string>([
    'vocabSize', 'blockSize', 'nLayer', 'nHead', 'nEmbd', 'ffnHidden', 'positional', 'norm', 'normPlacement',
    'ffn', 'dropout', 'bias', 'tieEmbeddings', 'ropeBase', 'ropeScaling', 'relativeBuckets', 'relativeMaxDistance', 'normEps', 'causal',
    'typeVocabSize', 'embeddingNorm', 'geluExact', 'lmHead', 'nClasses',
  ]);
  for (const key of Object.keys(input)) {
    if (!known.has(key)) throw new InvalidArgumentError(`config: unknown option '${key}'`);
  }
  const merged = { nLayer: 12, nHead: 12, nEmbd: 768, positional: 'learned', norm: 'layernorm', normPlacement: 'pre',
    ffn: 'gelu', dropout: 0, bias: true, tieEmbeddings: true, ropeBase: 10000, ropeScaling: null, relativeBuckets: 32,
    relativeMaxDistance: 128, normEps: 1e-5, causal: true,
    typeVocabSize: 0, embeddingNorm: false, geluExact: false, lmHead: 'plain', nClasses: 0, ...defaults, ...stripUndefined(input) };
  const nEmbd = integer('nEmbd', merged.nEmbd, 1);
  const nHead = integer('nHead', merged.nHead, 1);
  if (nEmbd % nHead !== 0) {
    throw new InvalidArgumentError(`config.nEmbd (${nEmbd}) must be divisible by config.nHead (${nHead})`);
  }
  const ffn = choice('ffn', merged.ffn, CHOICES.ffn);
  const positional = choice('positional', merged.positional, CHOICES.positional);
  if (positional === 'rope' && (nEmbd / nHead) % 2 !== 0) {
    throw new InvalidArgumentError(`config.positional 'rope' needs an even head size; nEmbd / nHead = ${nEmbd / nHead}`);
  }
  const dropout = merged.dropout;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) {
    throw new InvalidArgumentError(`config.dropout must be in [0, 1), got ${String(dropout)}`);
  }
  const ropeBase = merged.ropeBase;
  if (typeof ropeBase !== 'number' || !(ropeBase > 1) || !Number.isFinite(ropeBase)) {
    throw new InvalidArgumentError(`config.ropeBase must be a finite number > 1, got ${String(ropeBase)}`);
  }
  const ropeScaling = ropeScalingOf(merged.ropeScaling, nEmbd / nHead);
  const normEps = merged.normEps;
  if (typeof normEps !== 'number' || !(normEps > 0) || !Number.isFinite(normEps)) {
    throw new InvalidArgumentError(`config.normEps must be a finite number > 0, got ${String(normEps)}`);
  }
  const causal = bool('causal', merged.causal);
  const relativeBuckets = integer('relativeBuckets', merged.relativeBuckets, causal ? 2 : 4);
  const relativeMaxDistance = integer('relativeMaxDistance', merged.relativeMaxDistance, 1);
  const exact = causal ? relativeBuckets / 2 : relativeBuckets / 4;
  if (positional === 'relative' && relativeMaxDistance <= Math.floor(exact)) {
    throw new InvalidArgumentError(`config.relativeMaxDistance must exceed ${Math.floor(exact)}, got ${relativeMaxDistance}`);
  }
  const lmHead = choice('lmHead', merged.lmHead, CHOICES.lmHead);
  const nClasses = integer('nClasses', merged.nClasses, 0);
  if (lmHead === 'none' && nClasses === 0) {
    throw new InvalidArgumentError("config: the model needs an output: lmHead 'plain' or 'mlm', or nClasses > 0");
  }
  const ffnHidden = merged.ffnHidden === undefined ? (ffn === 'gelu' ? 4 * nEmbd : gluHidden(nEmbd)) : merged.ffnHidden;
  return {
    vocabSize: integer('vocabSize', merged.vocabSize, 1),
    blockSize: integer('blockSize', merged.blockSize, 1),
    nLayer: integer('nLayer', merged.nLayer, 1),
    nHead,
    nEmbd,
    ffnHidden: integer('ffnHidden', ffnHidden, 1),
    positional,
    norm: choice('norm', merged.norm, CHOICES.norm),
    normPlacement: choice('normPlacement', merged.normPlacement, CHOICES.normPlacement),
    ffn,
    dropout,
    bias: bool('bias', merged.bias),
    tieEmbeddings: bool('tieEmbeddings', merged.tieEmbeddings),
    ropeBase,
    ropeScaling,
    relativeBuckets,
    relativeMaxDistance,
    normEps,
    causal,
    typeVocabSize: integer('typeVocabSize', merged.typeVocabSize, 0),
    embeddingNorm: bool('embeddingNorm', merged.embeddingNorm),
    geluExact: bool('geluExact', merged.geluExact),
    lmHead,
    nClasses,
  };
}

function ropeScalingOf(value: unknown, headDim: number): RopeScaling | null {
  if (value === null) return null;
  const bad = (why: string): never => {
    throw new InvalidArgumentError(`config.ropeScaling ${why}; expected null or { type: 'linear' | 'ntk', factor: number > 0 }`);
  };
  if (typeof value !== 'object') return bad(`is ${JSON.stringify(value)}`);
  const { type, factor, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return bad(`has unknown keys ${Object.keys(rest).join(', ')}`);
  if (type !== 'linear' && type !== 'ntk') return bad(`.type is ${JSON.stringify(type)}`);
  if (typeof factor !== 'number' || !(factor > 0) || !Number.isFinite(factor)) return bad(`.factor is ${String(factor)}`);
  if (type === 'ntk' && headDim <= 2) return bad('ntk needs a head size > 2');
  return { type, factor };
}

function stripUndefined<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The snake_case object crates/wasm/src/model.rs reads. */
export function toCoreConfig(c: TransformerConfig): Record<string, number | string | boolean> {
  return {
    vocab_size: c.vocabSize,
    block_size: c.blockSize,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_embd: c.nEmbd,
    ffn_hidden: c.ffnHidden,
    positional: c.positional,
    relative_buckets: c.relativeBuckets,
    relative_max_distance: c.relativeMaxDistance,
    norm: c.norm,
    norm_placement: c.normPlacement,
    ffn: c.ffn,
    bias: c.bias,
    tie_embeddings: c.tieEmbeddings,
    causal: c.causal,
    dropout: c.dropout,
    rope_base: c.ropeBase,
    rope_scaling: c.ropeScaling?.type ?? 'none',
    rope_scaling_factor: c.ropeScaling?.factor ?? 1,
    norm_eps: c.normEps,
    type_vocab_size: c.typeVocabSize,
    embedding_norm: c.embeddingNorm,
    gelu_exact: c.geluExact,
    lm_head: c.lmHead,
    n_classes: c.nClasses,
  };
}

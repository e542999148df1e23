/**
 * The transformer's configuration in TypeScript: GPT-2 / nanoGPT names in camelCase, the
 * field's options, defaults, and validation with typed errors before anything reaches Rust.
 * Each field's default, validation and core name are written once, in `FIELDS`.
 */
import { InvalidArgumentError } from '../errors.js';

/**
 * How positions enter the model: `'learned'` absolute embeddings (GPT-2); `'sinusoidal'` fixed
 * sinusoids added to the token embeddings scaled by √nEmbd (Vaswani et al.); `'none'` (NoPE);
 * `'relative'` T5's learned bucketed bias; `'rope'` rotary (see `ropeFraction`,
 * `ropeKeepFrequencies`, `ropeScaling`); `'alibi'` a fixed linear distance penalty;
 * `'kerple'` KERPLE's learned logarithmic bias `−r1·ln(1 + r2·|i − j|)` per head.
 */
export type Positional = 'learned' | 'sinusoidal' | 'none' | 'relative' | 'rope' | 'alibi' | 'kerple';
/** Normalisation layer. */
export type NormKind = 'layernorm' | 'rmsnorm';
/** Norm before the sublayer (GPT-2, Llama) or after the residual add (original, BERT). */
export type NormPlacement = 'pre' | 'post';
/** Feed-forward block: a GELU or ReLU MLP, or a gated linear unit. */
export type FfnKind = 'gelu' | 'relu' | 'swiglu' | 'geglu' | 'reglu';
/**
 * The per-token output head: `'plain'` logits from the (tied) embedding (GPT), `'mlm'` BERT's
 * masked-LM head (dense + GELU + norm, then the tied decoder with a bias), `'none'`.
 */
export type LmHeadKind = 'plain' | 'mlm' | 'none';

/**
 * RoPE context extension: `'linear'` divides positions by `factor` (position interpolation);
 * `'ntk'` stretches the frequency base by `factor^(D/(D-2))` ("NTK-aware" scaling); `'yarn'`
 * (Peng et al. 2023) is exactly Hugging Face's `rope_type: 'yarn'`: pairs that turn more than
 * `betaFast` times over `originalMaxPositionEmbeddings` keep their frequency, pairs that turn
 * fewer than `betaSlow` times are divided by `factor`, a linear ramp in between, and cos and sin
 * are multiplied by `attentionFactor`.
 */
export type RopeScaling =
  | {
      /** `'linear'`: positions / factor; `'ntk'`: base × factor^(D/(D-2)). */
      type: 'linear' | 'ntk';
      /** > 0; typically the ratio of the target context to the trained one. */
      factor: number;
    }
  | {
      /** YaRN. */
      type: 'yarn';
      /** > 0: the context extension ratio. */
      factor: number;
      /** The context the model was trained for (integer >= 1). */
      originalMaxPositionEmbeddings: number;
      /** Default 32 (HF). */
      betaFast: number;
      /** Default 1 (HF); `0 < betaSlow < betaFast`. */
      betaSlow: number;
      /** > 0; absent: `0.1·ln(factor) + 1` for `factor > 1`, else 1 (HF's default). */
      attentionFactor?: number;
    };

/** The YaRN member of {@link RopeScaling}. */
type YarnScaling = Extract<RopeScaling, { type: 'yarn' }>;

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
  /** How positions enter the model. */
  positional: Positional;
  /** Normalisation layer. */
  norm: NormKind;
  /** Norm before the sublayer (pre) or after the residual add (post). */
  normPlacement: NormPlacement;
  /** Feed-forward block. */
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
  /**
   * Partial RoPE: the fraction of each head's dims that rotate (GPT-NeoX `rotary_pct`, HF
   * `partial_rotary_factor`); `⌊D · ropeFraction⌋` must be even and >= 2, the frequencies are
   * spread over those dims. Default 1 (all).
   */
  ropeFraction: number;
  /**
   * p-RoPE (Barbero et al. 2024): the fraction p of the rotated pairs' frequencies kept, the
   * highest ones; the lowest `1 − p` are not rotated (they carry no position). Default 1.
   */
  ropeKeepFrequencies: number;
  /**
   * Layers (0-based) whose attention uses no positions (NoPE), for positions that act inside
   * attention (`'rope'`, `'alibi'`, `'relative'`, `'kerple'`); e.g. `[3, 7, 11]` is every fourth
   * layer NoPE of 12, as in Llama 4 / SmolLM3. Default `[]`.
   */
  noPositionLayers: number[];
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
  Partial<Omit<TransformerConfig, 'vocabSize' | 'blockSize' | 'ropeScaling'>> & {
    /** As in {@link TransformerConfig}, where YaRN's `betaFast` and `betaSlow` may be left out (32 and 1, Hugging Face's defaults). */
    ropeScaling?:
      | RopeScaling
      | {
          /** YaRN (see {@link RopeScaling}). */
          type: 'yarn';
          /** > 0: the context extension ratio. */
          factor: number;
          /** The context the model was trained for (integer >= 1). */
          originalMaxPositionEmbeddings: number;
          /** Default 32. */
          betaFast?: number;
          /** Default 1; `0 < betaSlow < betaFast`. */
          betaSlow?: number;
          /** > 0; absent: `0.1·ln(factor) + 1` for `factor > 1`, else 1. */
          attentionFactor?: number;
        }
      | null;
  };

/** GLU hidden width that keeps the parameter count of a 4C GELU MLP: 8C/3, rounded up to 8. */
export function gluHidden(nEmbd: number): number {
  return Math.ceil((8 * nEmbd) / 3 / 8) * 8;
}

/** Reads another field of the configuration being resolved (validated, defaults filled). */
type Resolve = <K extends keyof TransformerConfig>(key: K) => TransformerConfig[K];

/** One configuration field: its default, its validation and how the core reads it. */
interface Field<K extends keyof TransformerConfig> {
  /** The default, or how to derive it from other fields; absent: the field is required. */
  default?: TransformerConfig[K] | ((get: Resolve) => TransformerConfig[K]);
  /** Validates the given (or default) value; may read other fields through `get`. */
  check(value: unknown, name: K, get: Resolve): TransformerConfig[K];
  /** The core's entries for this field; default `{ snake_case_name: value }`. */
  core?(value: TransformerConfig[K]): Record<string, CoreValue>;
}

/**
 * Every field of {@link TransformerConfig}, in its order, written once: the default (nanoGPT's
 * GPT-2: 12 layers, 12 heads, 768 wide, learned positions, pre-LayerNorm, GELU, biases, tied
 * embeddings, no dropout), the validation and the core's name. The known keys, the defaults
 * and {@link toCoreConfig} derive from it.
 */
const FIELDS: { readonly [K in keyof TransformerConfig]: Field<K> } = {
  vocabSize: { check: integer(1) },
  blockSize: { check: integer(1) },
  nLayer: { default: 12, check: integer(1) },
  nHead: { default: 12, check: integer(1) },
  nEmbd: {
    default: 768,
    check(value, name, get) {
      const nEmbd = integer(1)(value, name);
      const nHead = get('nHead');
      if (nEmbd % nHead !== 0) throw new InvalidArgumentError(`config.nEmbd (${nEmbd}) must be divisible by config.nHead (${nHead})`);
      return nEmbd;
    },
  },
  ffnHidden: {
    default: (get) => (get('ffn') === 'gelu' || get('ffn') === 'relu' ? 4 * get('nEmbd') : gluHidden(get('nEmbd'))),
    check: integer(1),
  },
  positional: {
    default: 'learned',
    check(value, name, get) {
      const positional = choice<Positional>({
        learned: true,
        sinusoidal: true,
        none: true,
        relative: true,
        rope: true,
        alibi: true,
        kerple: true,
      })(value, name);
      const headDim = get('nEmbd') / get('nHead');
      if (positional === 'rope' && headDim % 2 !== 0) {
        throw new InvalidArgumentError(`config.positional 'rope' needs an even head size; nEmbd / nHead = ${headDim}`);
      }
      return positional;
    },
  },
  norm: { default: 'layernorm', check: choice<NormKind>({ layernorm: true, rmsnorm: true }) },
  normPlacement: { default: 'pre', check: choice<NormPlacement>({ pre: true, post: true }) },
  ffn: { default: 'gelu', check: choice<FfnKind>({ gelu: true, relu: true, swiglu: true, geglu: true, reglu: true }) },
  dropout: {
    default: 0,
    check(value, name) {
      if (typeof value !== 'number' || !(value >= 0 && value < 1))
        throw new InvalidArgumentError(`config.${name} must be in [0, 1), got ${String(value)}`);
      return value;
    },
  },
  bias: { default: true, check: bool },
  tieEmbeddings: { default: true, check: bool },
  ropeBase: { default: 10000, check: finiteAbove(1) },
  ropeScaling: {
    default: null,
    check: (value, _name, get) => ropeScalingOf(value, get('nEmbd') / get('nHead')),
    core: (s) => ({
      rope_scaling: s?.type ?? 'none',
      rope_scaling_factor: s?.factor ?? 1,
      ...(s?.type === 'yarn'
        ? {
            rope_scaling_original_max_positions: s.originalMaxPositionEmbeddings,
            rope_scaling_beta_fast: s.betaFast,
            rope_scaling_beta_slow: s.betaSlow,
            ...(s.attentionFactor === undefined ? {} : { rope_scaling_attention_factor: s.attentionFactor }),
          }
        : {}),
    }),
  },
  ropeFraction: {
    default: 1,
    check(value, name, get) {
      const fraction = ropeFractionOf(value, name, get);
      const headDim = get('nEmbd') / get('nHead');
      const rotated = Math.floor(headDim * fraction);
      if (fraction < 1 && (rotated < 2 || rotated % 2 !== 0)) {
        throw new InvalidArgumentError(
          `config.ropeFraction ${fraction} rotates ${rotated} of ${headDim} dims per head; that must be even and >= 2`,
        );
      }
      return fraction;
    },
  },
  ropeKeepFrequencies: {
    default: 1,
    check(value, name, get) {
      const p = ropeFractionOf(value, name, get);
      const headDim = get('nEmbd') / get('nHead');
      const pairs = Math.floor((get('ropeFraction') < 1 ? Math.floor(headDim * get('ropeFraction')) : headDim) / 2);
      if (p < 1 && Math.floor(p * pairs) < 1) {
        throw new InvalidArgumentError(`config.ropeKeepFrequencies ${p} keeps no frequency of ${pairs} (need >= 1)`);
      }
      return p;
    },
  },
  noPositionLayers: {
    default: () => [],
    check(value, name, get) {
      if (!Array.isArray(value)) throw new InvalidArgumentError(`config.${name} must be an array of layer indices, got ${String(value)}`);
      const nLayer = get('nLayer');
      const layers = value.map((l: unknown) => {
        if (typeof l !== 'number' || !Number.isInteger(l) || l < 0 || l >= nLayer) {
          throw new InvalidArgumentError(`config.${name}: ${String(l)} is not a layer index in [0, ${nLayer})`);
        }
        return l;
      });
      if (new Set(layers).size !== layers.length)
        throw new InvalidArgumentError(`config.${name} lists a layer twice: ${layers.join(', ')}`);
      const positional = get('positional');
      if (layers.length > 0 && (positional === 'learned' || positional === 'sinusoidal' || positional === 'none')) {
        throw new InvalidArgumentError(
          `config.${name} needs positions inside attention ('rope', 'alibi', 'relative' or 'kerple'); '${positional}' positions enter once, below every layer`,
        );
      }
      return layers;
    },
  },
  relativeBuckets: { default: 32, check: (value, name, get) => integer(get('causal') ? 2 : 4)(value, name) },
  relativeMaxDistance: {
    default: 128,
    check(value, name, get) {
      const distance = integer(1)(value, name);
      const buckets = get('relativeBuckets');
      const exact = Math.floor(get('causal') ? buckets / 2 : buckets / 4);
      if (get('positional') === 'relative' && distance <= exact) {
        throw new InvalidArgumentError(`config.relativeMaxDistance must exceed ${exact}, got ${distance}`);
      }
      return distance;
    },
  },
  normEps: { default: 1e-5, check: finiteAbove(0) },
  causal: { default: true, check: bool },
  typeVocabSize: { default: 0, check: integer(0) },
  embeddingNorm: { default: false, check: bool },
  geluExact: { default: false, check: bool },
  lmHead: { default: 'plain', check: choice<LmHeadKind>({ plain: true, mlm: true, none: true }) },
  nClasses: {
    default: 0,
    check(value, name, get) {
      const nClasses = integer(0)(value, name);
      if (get('lmHead') === 'none' && nClasses === 0) {
        throw new InvalidArgumentError("config: the model needs an output: lmHead 'plain' or 'mlm', or nClasses > 0");
      }
      return nClasses;
    },
  },
};

const KEYS = Object.keys(FIELDS) as (keyof TransformerConfig)[];

function integer(min: number) {
  return (value: unknown, name: string): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw new InvalidArgumentError(`config.${name} must be an integer >= ${min}, got ${String(value)}`);
    }
    return value;
  };
}

function finiteAbove(min: number) {
  return (value: unknown, name: string): number => {
    if (typeof value !== 'number' || !(value > min) || !Number.isFinite(value)) {
      throw new InvalidArgumentError(`config.${name} must be a finite number > ${min}, got ${String(value)}`);
    }
    return value;
  };
}

/** A check for one of the strings of `T` (given as the keys of a record, so none is missing). */
function choice<T extends string>(members: Record<T, true>) {
  const options = Object.keys(members);
  return (value: unknown, name: string): T => {
    if (typeof value !== 'string' || !options.includes(value)) {
      throw new InvalidArgumentError(
        `config.${name} must be one of ${options.map((o) => `'${o}'`).join(', ')}, got ${JSON.stringify(value)}`,
      );
    }
    return value as T;
  };
}

function bool(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgumentError(`config.${name} must be a boolean, got ${String(value)}`);
  return value;
}

/**
 * Fills defaults (`defaults` over nanoGPT's GPT-2: 12 layers, 12 heads, 768 wide, learned
 * positions, pre-LayerNorm, GELU, biases, tied embeddings, no dropout) and validates every
 * field. `GPT.create` and `BERT.create` call it with their own defaults.
 *
 * @param input - the user's fields (`vocabSize` and `blockSize` required; `undefined` = default)
 * @param defaults - model-family defaults that replace the GPT-2 ones
 * @returns the complete configuration
 * @throws InvalidArgumentError naming the field, what was given and what is allowed (also for
 * an unknown key).
 */
export function resolveConfig(input: TransformerConfigInput, defaults: Partial<TransformerConfig> = {}): TransformerConfig {
  if (typeof input !== 'object' || input === null) throw new InvalidArgumentError('config must be an object');
  for (const key of Object.keys(input)) {
    if (!Object.hasOwn(FIELDS, key)) throw new InvalidArgumentError(`config: unknown option '${key}'`);
  }
  const given: Record<string, unknown> = { ...stripUndefined(defaults), ...stripUndefined(input) };
  const resolved = new Map<keyof TransformerConfig, unknown>();
  const get: Resolve = (key) => {
    if (!resolved.has(key)) {
      // One field, seen without its key's type (the union over every key is too large to check).
      const field = FIELDS[key] as unknown as { default?: unknown; check(value: unknown, name: string, get: Resolve): unknown };
      const fallback = typeof field.default === 'function' ? (field.default as (get: Resolve) => unknown)(get) : field.default;
      resolved.set(key, field.check(Object.hasOwn(given, key) ? given[key] : fallback, key, get));
    }
    return resolved.get(key) as TransformerConfig[typeof key];
  };
  return Object.fromEntries(KEYS.map((key) => [key, get(key)])) as unknown as TransformerConfig;
}

/** A fraction in (0, 1] that, below 1, needs `positional: 'rope'`. */
function ropeFractionOf(value: unknown, name: string, get: Resolve): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw new InvalidArgumentError(`config.${name} must be a number in (0, 1], got ${String(value)}`);
  }
  if (value < 1 && get('positional') !== 'rope') {
    throw new InvalidArgumentError(`config.${name} < 1 needs positional 'rope', got '${get('positional')}'`);
  }
  return value;
}

function ropeScalingOf(value: unknown, headDim: number): RopeScaling | null {
  if (value === null) return null;
  const bad = (why: string): never => {
    throw new InvalidArgumentError(
      `config.ropeScaling ${why}; expected null, { type: 'linear' | 'ntk', factor: number > 0 } or { type: 'yarn', factor, originalMaxPositionEmbeddings, betaFast?, betaSlow?, attentionFactor? }`,
    );
  };
  if (typeof value !== 'object') return bad(`is ${JSON.stringify(value)}`);
  const { type, factor, ...rest } = value as Record<string, unknown>;
  const positive = (key: string, x: unknown): number => {
    if (typeof x !== 'number' || !(x > 0) || !Number.isFinite(x)) return bad(`.${key} is ${String(x)}`);
    return x;
  };
  if (type === 'yarn') {
    const { originalMaxPositionEmbeddings, betaFast = 32, betaSlow = 1, attentionFactor, ...unknown } = rest;
    if (Object.keys(unknown).length > 0) return bad(`has unknown keys ${Object.keys(unknown).join(', ')}`);
    const original = originalMaxPositionEmbeddings;
    if (typeof original !== 'number' || !Number.isInteger(original) || original < 1 || original > 0xffffffff) {
      return bad(`.originalMaxPositionEmbeddings is ${String(original)} (an integer >= 1)`);
    }
    const yarn: YarnScaling = {
      type,
      factor: positive('factor', factor),
      originalMaxPositionEmbeddings: original,
      betaFast: positive('betaFast', betaFast),
      betaSlow: positive('betaSlow', betaSlow),
    };
    if (!(yarn.betaSlow < yarn.betaFast)) return bad(`needs betaSlow < betaFast, got ${yarn.betaSlow} and ${yarn.betaFast}`);
    if (attentionFactor !== undefined) yarn.attentionFactor = positive('attentionFactor', attentionFactor);
    return yarn;
  }
  if (Object.keys(rest).length > 0) return bad(`has unknown keys ${Object.keys(rest).join(', ')}`);
  if (type !== 'linear' && type !== 'ntk') return bad(`.type is ${JSON.stringify(type)}`);
  const f = positive('factor', factor);
  if (type === 'ntk' && headDim <= 2) return bad('ntk needs a head size > 2');
  return { type, factor: f };
}

function stripUndefined<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** `nLayer` → `n_layer`. */
function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** A value of the core's config object. */
export type CoreValue = number | string | boolean | number[];

/**
 * The snake_case object crates/wasm/src/model.rs reads (derived from the field table).
 * @param c - a configuration from {@link resolveConfig}
 */
export function toCoreConfig(c: TransformerConfig): Record<string, CoreValue> {
  const out: Record<string, CoreValue> = {};
  for (const key of KEYS) {
    const field = FIELDS[key] as Field<typeof key>;
    const value = c[key];
    if (field.core) Object.assign(out, field.core(value));
    else out[snakeCase(key)] = value as CoreValue;
  }
  return out;
}

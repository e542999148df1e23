/**
 * Hugging Face interop, the pure part: ONE table per architecture mapping `config.json` field
 * names and parameter names between Hugging Face (`transformers`) and wasmformer, and the
 * functions that apply it in both directions. File I/O is in `huggingface.node.ts`.
 *
 * | HF `model_type` | wasmformer config                                                      |
 * | --------------- | ---------------------------------------------------------------------- |
 * | `gpt2`          | learned positions, pre-LayerNorm, GELU (tanh) MLP, biases              |
 * | `llama`         | RoPE (rotate_half, 'linear' scaling), pre-RMSNorm, SwiGLU, no biases, H_kv = H |
 * | `smollm3`       | the Llama block with NoPE layers (`no_rope_layers`), H_kv = H          |
 * | `gpt_neox`      | RoPE on `rotary_pct` of each head, pre-LayerNorm, GELU MLP, biases, sequential residual |
 * | `bert`          | encoder: learned positions + segments, embedding LayerNorm, post-LN, GELU |
 *
 * Layouts: wasmformer linear weights are `[out, in]` (PyTorch `nn.Linear`). GPT-2's HF
 * `Conv1D` stores `[in, out]`, so its four matrices per block are transposed both ways. Llama's
 * `q_proj`, `k_proj`, `v_proj` (`[C, C]` each) are stacked as rows of `c_attn: [3C, C]`, and so
 * are BERT's `query`, `key`, `value`. A BERT checkpoint's heads (pooler, masked-LM, next-sentence,
 * classifier) depend on its class ({@link BERT_CLASSES}); the table marks each head tensor.
 * GPT-NeoX's fused `query_key_value` has each head's q, k, v together (`huggingface-neox.ts`).
 * Anything a side cannot represent throws {@link UnsupportedConfigError} naming the field.
 */
import { CheckpointError, UnsupportedConfigError } from '../errors.js';
import type { TransformerConfig, TransformerConfigInput } from '../models/config.js';
import {
  NEOX_FIXED,
  NEOX_TABLE,
  neoxConfigFromHuggingFace,
  neoxConfigToHuggingFace,
  neoxQkvFromHuggingFace,
  neoxQkvToHuggingFace,
} from './huggingface-neox.js';
import { SMOLLM3_CLASS, SMOLLM3_CONFIG, smollm3ConfigFromHuggingFace, smollm3ConfigToHuggingFace } from './huggingface-smollm3.js';
import { ROPE_NTK_ON_SAVE, llamaRope, llamaRopeScalingToHuggingFace, read, unsupported } from './huggingface-rope.js';
import type { NamedTensor } from '../models/transformer.js';

/** The Hugging Face architectures wasmformer reads and writes. */
export type HuggingFaceArch = 'gpt2' | 'llama' | 'smollm3' | 'gpt_neox' | 'bert';

/** The parts of a BERT checkpoint besides the encoder (`modeling_bert.py`). */
export type BertHead = 'pooler' | 'mlm' | 'nsp' | 'classifier';

/** The BERT classes wasmformer reads and writes, and the heads each one holds. */
export const BERT_CLASSES: Readonly<Record<string, readonly BertHead[]>> = {
  BertModel: ['pooler'],
  BertForMaskedLM: ['mlm'],
  BertForPreTraining: ['pooler', 'mlm', 'nsp'],
  BertForNextSentencePrediction: ['pooler', 'nsp'],
  BertForSequenceClassification: ['pooler', 'classifier'],
};

/** A parsed `config.json` (only JSON values). */
export type HuggingFaceConfig = Record<string, unknown>;

/** One config field: our name, HF's name, HF's class default (used when config.json omits it). */
export interface ConfigField {
  /** Our field. */
  ours: 'vocabSize' | 'blockSize' | 'nLayer' | 'nHead' | 'nEmbd' | 'ffnHidden' | 'normEps' | 'ropeBase' | 'tieEmbeddings' | 'typeVocabSize';
  /** Its name in config.json. */
  hf: string;
  /** The value transformers assumes when config.json omits it (null: required). */
  default: number | boolean | null;
}

/** One parameter: our name, HF's name(s) (stacked along dim 0), `{l}` = layer index. */
export interface ParamField {
  /** Our name (nanoGPT style), `{l}` = layer index. */
  ours: string;
  /** HF's name(s); several are stacked along dim 0 into ours. */
  hf: readonly string[];
  /** HF stores the transpose (`Conv1D`, `[in, out]`). */
  transpose?: boolean;
  /** BERT: the head this tensor belongs to (absent: the encoder, always there). */
  head?: BertHead;
  /** Only when `tieEmbeddings` is this (absent: always). */
  tied?: boolean;
  /** GPT-NeoX `query_key_value`: HF's rows are `[H, 3, D]`, ours `[3, H, D]`. */
  qkvPerHead?: true;
}

/**
 * An HF tensor that repeats one of ours: a tied copy some checkpoints store (checked on load,
 * not written), or (`written`) a parameter transformers has but does not use in this
 * configuration (written as a copy so that it loads without a missing key, ignored on load).
 */
export interface CopyField {
  /** The HF tensor name. */
  hf: string;
  /** Our tensor it repeats. */
  ours: string;
  /** Only when `tieEmbeddings` is this. */
  tied: boolean;
  /** BERT: the head this tensor belongs to (absent: the encoder). */
  head?: BertHead;
  /** Written on save (a parameter transformers has but does not use here), ignored on load. */
  written?: true;
}

/** How one Hugging Face architecture names its config fields and tensors. */
export interface ArchTable {
  /** `architectures[0]` written to config.json. */
  className: string;
  /** Prefix of every HF name except the heads' (absent in base-model checkpoints). */
  prefix: string;
  /** HF names that never take the prefix. */
  unprefixed: RegExp;
  /** The config fields it maps. */
  config: readonly ConfigField[];
  /** Every parameter, ours and theirs. */
  params: readonly ParamField[];
  /** HF non-parameter buffers some checkpoints contain; ignored on load. */
  buffers: RegExp;
  /** Tied copies: checked against the tensor they repeat on load, not written. */
  copies: readonly CopyField[];
  /** Other names of a tensor some checkpoints use, read as the table's name (never written). */
  aliases?: Readonly<Record<string, string>>;
}

/** The Llama row of the mapping table; SmolLM3 names its tensors the same way. */
const LLAMA_TABLE: ArchTable = {
  className: 'LlamaForCausalLM',
  prefix: 'model.',
  unprefixed: /^lm_head\.weight$/,
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
      hf: [
        'model.layers.{l}.self_attn.q_proj.weight',
        'model.layers.{l}.self_attn.k_proj.weight',
        'model.layers.{l}.self_attn.v_proj.weight',
      ],
    },
    { ours: 'transformer.h.{l}.attn.c_proj.weight', hf: ['model.layers.{l}.self_attn.o_proj.weight'] },
    { ours: 'transformer.h.{l}.ln_2.weight', hf: ['model.layers.{l}.post_attention_layernorm.weight'] },
    { ours: 'transformer.h.{l}.mlp.c_fc.weight', hf: ['model.layers.{l}.mlp.gate_proj.weight'] },
    { ours: 'transformer.h.{l}.mlp.c_up.weight', hf: ['model.layers.{l}.mlp.up_proj.weight'] },
    { ours: 'transformer.h.{l}.mlp.c_proj.weight', hf: ['model.layers.{l}.mlp.down_proj.weight'] },
    { ours: 'transformer.ln_f.weight', hf: ['model.norm.weight'] },
    { ours: 'lm_head.weight', hf: ['lm_head.weight'], tied: false },
  ],
  // The RoPE frequency table older Llama checkpoints saved.
  buffers: /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/,
  copies: [{ hf: 'lm_head.weight', ours: 'transformer.wte.weight', tied: true }],
};

/** THE table: every name wasmformer maps, both directions. */
export const HF_TABLE: Readonly<Record<HuggingFaceArch, ArchTable>> = {
  gpt2: {
    className: 'GPT2LMHeadModel',
    prefix: 'transformer.',
    unprefixed: /^lm_head\.weight$/,
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
      { ours: 'lm_head.weight', hf: ['lm_head.weight'], tied: false },
    ],
    // The causal-mask buffers older GPT-2 checkpoints saved.
    buffers: /^transformer\.h\.\d+\.attn\.(bias|masked_bias)$/,
    copies: [{ hf: 'lm_head.weight', ours: 'transformer.wte.weight', tied: true }],
  },
  llama: LLAMA_TABLE,
  smollm3: { ...LLAMA_TABLE, className: SMOLLM3_CLASS, config: SMOLLM3_CONFIG },
  gpt_neox: NEOX_TABLE,
  bert: {
    className: 'BertForMaskedLM', // the class actually written follows the heads (bertClassFor)
    prefix: 'bert.',
    unprefixed: /^(cls|classifier)\./,
    config: [
      { ours: 'vocabSize', hf: 'vocab_size', default: 30522 },
      { ours: 'blockSize', hf: 'max_position_embeddings', default: 512 },
      { ours: 'nLayer', hf: 'num_hidden_layers', default: 12 },
      { ours: 'nHead', hf: 'num_attention_heads', default: 12 },
      { ours: 'nEmbd', hf: 'hidden_size', default: 768 },
      { ours: 'ffnHidden', hf: 'intermediate_size', default: 3072 },
      { ours: 'normEps', hf: 'layer_norm_eps', default: 1e-12 },
      { ours: 'typeVocabSize', hf: 'type_vocab_size', default: 2 },
      { ours: 'tieEmbeddings', hf: 'tie_word_embeddings', default: true },
    ],
    params: [
      { ours: 'transformer.wte.weight', hf: ['bert.embeddings.word_embeddings.weight'] },
      { ours: 'transformer.wpe.weight', hf: ['bert.embeddings.position_embeddings.weight'] },
      { ours: 'transformer.wtt.weight', hf: ['bert.embeddings.token_type_embeddings.weight'] },
      { ours: 'transformer.ln_e.weight', hf: ['bert.embeddings.LayerNorm.weight'] },
      { ours: 'transformer.ln_e.bias', hf: ['bert.embeddings.LayerNorm.bias'] },
      {
        ours: 'transformer.h.{l}.attn.c_attn.weight',
        hf: [
          'bert.encoder.layer.{l}.attention.self.query.weight',
          'bert.encoder.layer.{l}.attention.self.key.weight',
          'bert.encoder.layer.{l}.attention.self.value.weight',
        ],
      },
      {
        ours: 'transformer.h.{l}.attn.c_attn.bias',
        hf: [
          'bert.encoder.layer.{l}.attention.self.query.bias',
          'bert.encoder.layer.{l}.attention.self.key.bias',
          'bert.encoder.layer.{l}.attention.self.value.bias',
        ],
      },
      { ours: 'transformer.h.{l}.attn.c_proj.weight', hf: ['bert.encoder.layer.{l}.attention.output.dense.weight'] },
      { ours: 'transformer.h.{l}.attn.c_proj.bias', hf: ['bert.encoder.layer.{l}.attention.output.dense.bias'] },
      { ours: 'transformer.h.{l}.ln_1.weight', hf: ['bert.encoder.layer.{l}.attention.output.LayerNorm.weight'] },
      { ours: 'transformer.h.{l}.ln_1.bias', hf: ['bert.encoder.layer.{l}.attention.output.LayerNorm.bias'] },
      { ours: 'transformer.h.{l}.mlp.c_fc.weight', hf: ['bert.encoder.layer.{l}.intermediate.dense.weight'] },
      { ours: 'transformer.h.{l}.mlp.c_fc.bias', hf: ['bert.encoder.layer.{l}.intermediate.dense.bias'] },
      { ours: 'transformer.h.{l}.mlp.c_proj.weight', hf: ['bert.encoder.layer.{l}.output.dense.weight'] },
      { ours: 'transformer.h.{l}.mlp.c_proj.bias', hf: ['bert.encoder.layer.{l}.output.dense.bias'] },
      { ours: 'transformer.h.{l}.ln_2.weight', hf: ['bert.encoder.layer.{l}.output.LayerNorm.weight'] },
      { ours: 'transformer.h.{l}.ln_2.bias', hf: ['bert.encoder.layer.{l}.output.LayerNorm.bias'] },
      { ours: 'pooler.dense.weight', hf: ['bert.pooler.dense.weight'], head: 'pooler' },
      { ours: 'pooler.dense.bias', hf: ['bert.pooler.dense.bias'], head: 'pooler' },
      { ours: 'mlm.dense.weight', hf: ['cls.predictions.transform.dense.weight'], head: 'mlm' },
      { ours: 'mlm.dense.bias', hf: ['cls.predictions.transform.dense.bias'], head: 'mlm' },
      { ours: 'mlm.ln.weight', hf: ['cls.predictions.transform.LayerNorm.weight'], head: 'mlm' },
      { ours: 'mlm.ln.bias', hf: ['cls.predictions.transform.LayerNorm.bias'], head: 'mlm' },
      // Tied, transformers ties decoder.bias to cls.predictions.bias; untied, the decoder (with
      // its own bias) is a separate Linear and cls.predictions.bias is unused.
      { ours: 'mlm.bias', hf: ['cls.predictions.bias'], head: 'mlm', tied: true },
      { ours: 'mlm.bias', hf: ['cls.predictions.decoder.bias'], head: 'mlm', tied: false },
      { ours: 'lm_head.weight', hf: ['cls.predictions.decoder.weight'], head: 'mlm', tied: false },
      { ours: 'classifier.weight', hf: ['cls.seq_relationship.weight'], head: 'nsp' },
      { ours: 'classifier.bias', hf: ['cls.seq_relationship.bias'], head: 'nsp' },
      { ours: 'classifier.weight', hf: ['classifier.weight'], head: 'classifier' },
      { ours: 'classifier.bias', hf: ['classifier.bias'], head: 'classifier' },
    ],
    // The index buffers (int64) transformers 4 saved.
    buffers: /^bert\.embeddings\.(position_ids|token_type_ids)$/,
    copies: [
      { hf: 'cls.predictions.decoder.weight', ours: 'transformer.wte.weight', tied: true, head: 'mlm' },
      { hf: 'cls.predictions.decoder.bias', ours: 'mlm.bias', tied: true, head: 'mlm' },
      { hf: 'cls.predictions.bias', ours: 'mlm.bias', tied: false, head: 'mlm', written: true },
    ],
  },
};

/** The configuration fixed by each architecture (not read from config.json). */
const FIXED: Readonly<Record<HuggingFaceArch, Partial<TransformerConfig>>> = {
  gpt2: { positional: 'learned', norm: 'layernorm', normPlacement: 'pre', ffn: 'gelu', bias: true, causal: true },
  llama: { positional: 'rope', norm: 'rmsnorm', normPlacement: 'pre', ffn: 'swiglu', bias: false, causal: true },
  smollm3: { positional: 'rope', norm: 'rmsnorm', normPlacement: 'pre', ffn: 'swiglu', bias: false, causal: true },
  gpt_neox: NEOX_FIXED,
  bert: { positional: 'learned', norm: 'layernorm', normPlacement: 'post', ffn: 'gelu', bias: true, causal: false, embeddingNorm: true },
};

/** Requires `field` (default `fallback`) to be one of `allowed`. */
function expect(hf: HuggingFaceConfig, field: string, fallback: unknown, allowed: readonly unknown[], why: string): void {
  const value = read(hf, field, fallback);
  if (!allowed.includes(value)) unsupported(field, value, why);
}

/** The architecture of a config.json, from `model_type`. */
export function huggingFaceArch(hf: HuggingFaceConfig): HuggingFaceArch {
  if (typeof hf !== 'object' || hf === null || Array.isArray(hf)) {
    throw new CheckpointError(
      `config.json must be a JSON object, got ${hf === null ? 'null' : Array.isArray(hf) ? 'an array' : typeof hf}`,
    );
  }
  const type = hf.model_type;
  if (type === 'gpt2' || type === 'llama' || type === 'smollm3' || type === 'gpt_neox' || type === 'bert') return type;
  return unsupported('model_type', type, "wasmformer reads 'gpt2', 'llama', 'smollm3', 'gpt_neox' and 'bert' checkpoints");
}

/** The heads of a BERT config.json's class (`architectures[0]`; none given: `BertModel`). */
function bertHeadsOfClass(hf: HuggingFaceConfig): readonly BertHead[] {
  const archs = read(hf, 'architectures', null);
  const name = Array.isArray(archs) && archs.length > 0 ? archs[0] : 'BertModel';
  const heads = typeof name === 'string' && Object.hasOwn(BERT_CLASSES, name) ? BERT_CLASSES[name] : undefined;
  if (!heads) return unsupported('architectures', archs, `wasmformer reads ${Object.keys(BERT_CLASSES).join(', ')}`);
  return heads;
}

/**
 * The heads a BERT checkpoint holds, from its tensor names (with or without the `bert.` prefix).
 * @throws UnsupportedConfigError for both a next-sentence head and a classifier (no such class).
 */
export function bertHeadsOf(names: Iterable<string>): BertHead[] {
  const all = new Set(names);
  const has = (name: string): boolean => all.has(name) || all.has(name.replace(/^bert\./, ''));
  const heads: BertHead[] = [];
  if (has('bert.pooler.dense.weight')) heads.push('pooler');
  if (has('cls.predictions.bias')) heads.push('mlm');
  if (has('cls.seq_relationship.weight')) heads.push('nsp');
  if (has('classifier.weight')) heads.push('classifier');
  if (heads.includes('nsp') && heads.includes('classifier')) {
    unsupported('architectures', 'nsp + classifier', 'a checkpoint has either cls.seq_relationship or classifier, not both');
  }
  return heads;
}

/** The number of labels of a BertForSequenceClassification config.json (`id2label`, else `num_labels`, else 2). */
function bertLabels(hf: HuggingFaceConfig): number {
  const id2label = read(hf, 'id2label', null);
  const n = id2label !== null && typeof id2label === 'object' ? Object.keys(id2label).length : read(hf, 'num_labels', 2);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) unsupported('id2label', id2label, 'needs at least one label');
  return n;
}

/**
 * Maps a `config.json` to a wasmformer config. Dropout is not read (HF's `*_pdrop` are
 * training choices; pass your own), everything that changes the function the model computes
 * is either mapped or refused.
 *
 * BERT's output heads depend on the checkpoint: `heads` (from {@link bertHeadsOf} on its
 * tensor names; default: the heads of `architectures[0]`). A masked-LM head gives
 * `lmHead: 'mlm'`, a next-sentence head `nClasses: 2`, a classifier `nClasses` = its labels.
 * A checkpoint with neither (`BertModel`) gets `lmHead: 'mlm'`, whose weights are then not in
 * the checkpoint (wasmformer's config needs an output; the encoder's hidden states, `embed`,
 * do not use it), or, with `nClasses`, a new classifier on the checkpoint's pooler.
 *
 * @param nClasses - BERT: a new classifier of this many classes when the checkpoint has none.
 * @throws UnsupportedConfigError naming the first field wasmformer cannot represent.
 */
export function configFromHuggingFace(hf: HuggingFaceConfig, heads?: readonly BertHead[], nClasses?: number): TransformerConfigInput {
  const arch = huggingFaceArch(hf);
  const table = HF_TABLE[arch];
  const mapped: Record<string, unknown> = {};
  for (const field of table.config) {
    if (field.ours === 'ropeBase') continue;
    const value = read(hf, field.hf, field.default);
    if (value === null && field.ours === 'ffnHidden' && arch === 'gpt2') continue; // n_inner null → 4C (our default too)
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
  } else if (arch === 'llama') {
    Object.assign(mapped, llamaRope(hf));
    const nHead = mapped.nHead as number;
    expect(
      hf,
      'num_key_value_heads',
      nHead,
      [nHead, null],
      `grouped-query attention is not implemented (needs num_key_value_heads = num_attention_heads = ${nHead})`,
    );
    const headDim = (mapped.nEmbd as number) / nHead;
    expect(hf, 'head_dim', headDim, [headDim, null], `head_dim must be hidden_size / num_attention_heads = ${headDim}`);
    expect(hf, 'hidden_act', 'silu', ['silu'], "the gated MLP is SwiGLU (hidden_act 'silu')");
    expect(hf, 'attention_bias', false, [false], 'Llama-style models have no biases in wasmformer');
    expect(hf, 'mlp_bias', false, [false], 'Llama-style models have no biases in wasmformer');
    expect(hf, 'pretraining_tp', 1, [1, null], 'tensor-parallel slicing (pretraining_tp > 1) is not implemented');
  } else if (arch === 'smollm3') {
    Object.assign(mapped, smollm3ConfigFromHuggingFace(hf, mapped as { nLayer: number; nHead: number; nEmbd: number }));
  } else if (arch === 'gpt_neox') {
    Object.assign(mapped, neoxConfigFromHuggingFace(hf));
  } else {
    expect(
      hf,
      'hidden_act',
      'gelu',
      ['gelu', 'gelu_new', 'gelu_pytorch_tanh'],
      "the MLP is GELU: exact ('gelu') or the tanh form ('gelu_new')",
    );
    mapped.geluExact = read(hf, 'hidden_act', 'gelu') === 'gelu';
    expect(hf, 'position_embedding_type', 'absolute', ['absolute'], "only learned absolute positions ('absolute') are mapped");
    expect(hf, 'is_decoder', false, [false], 'a BERT decoder (causal mask, cross-attention) is not implemented');
    expect(hf, 'add_cross_attention', false, [false], 'cross-attention is not implemented');
    Object.assign(mapped, bertOutputs(hf, heads ?? bertHeadsOfClass(hf), nClasses));
  }
  return { ...FIXED[arch], ...mapped, dropout: 0 } as TransformerConfigInput;
}

/** `lmHead` and `nClasses` of a BERT checkpoint with `heads` (see {@link configFromHuggingFace}). */
function bertOutputs(
  hf: HuggingFaceConfig,
  heads: readonly BertHead[],
  nClasses: number | undefined,
): Pick<TransformerConfig, 'lmHead' | 'nClasses'> {
  const lmHead = heads.includes('mlm') ? 'mlm' : 'none';
  const own = heads.includes('nsp') ? 2 : heads.includes('classifier') ? bertLabels(hf) : 0;
  if (nClasses === undefined) return own === 0 && lmHead === 'none' ? { lmHead: 'mlm', nClasses: 0 } : { lmHead, nClasses: own };
  if (!Number.isInteger(nClasses) || nClasses < 1) unsupported('nClasses', nClasses, 'must be an integer >= 1');
  if (own !== 0 && own !== nClasses) unsupported('nClasses', nClasses, `the checkpoint already has a classifier of ${own} classes`);
  if (!heads.includes('pooler'))
    unsupported('nClasses', nClasses, 'a new classifier needs the checkpoint to have a pooler (bert.pooler.dense)');
  return { lmHead, nClasses };
}

function refuse(field: string, value: unknown, why: string): never {
  throw new UnsupportedConfigError(
    `saveHuggingFace: config.${field} = ${JSON.stringify(value)} cannot be represented: ${why}`,
    field,
    value,
  );
}

/** The name of a causal architecture in messages. */
const NAMES: Readonly<Record<HuggingFaceArch, string>> = {
  gpt2: 'GPT-2',
  llama: 'Llama',
  smollm3: 'SmolLM3',
  gpt_neox: 'GPT-NeoX',
  bert: 'BERT',
};

/** Why partial RoPE on a Llama-shaped config is refused. */
const LLAMA_PARTIAL_ROPE =
  "Llama rotates every dim of each head; partial RoPE is saved as GPT-NeoX (rotary_pct), whose block needs norm 'layernorm', ffn 'gelu' and bias: true";

/**
 * The architecture a wasmformer config is saved as: causal learned positions → GPT-2; RoPE with
 * LayerNorm, a GELU MLP and biases → GPT-NeoX (any `ropeFraction`, exact or tanh GELU); other
 * RoPE → Llama (`ropeFraction` 1 only), or SmolLM3 when some layers use no positions
 * (`noPositionLayers` non-empty; empty stays Llama). RoPE scaling null, 'linear' or 'yarn' ('ntk' has no
 * Hugging Face equivalent and is refused). An encoder (`causal: false`) → BERT.
 * @throws UnsupportedConfigError naming the first field no architecture can hold.
 */
export function huggingFaceArchFor(c: TransformerConfig): HuggingFaceArch {
  if (!c.causal) {
    for (const key of ['normPlacement', 'positional', 'norm', 'ffn', 'bias', 'embeddingNorm'] as const) {
      if (c[key] !== FIXED.bert[key])
        refuse(key, c[key], `a BERT checkpoint (the only Hugging Face encoder here) needs ${key} = ${JSON.stringify(FIXED.bert[key])}`);
    }
    if (c.typeVocabSize < 1)
      refuse('typeVocabSize', c.typeVocabSize, 'Hugging Face BERT always has segment embeddings (type_vocab_size >= 1)');
    if (c.lmHead === 'plain') refuse('lmHead', c.lmHead, "a BERT checkpoint's LM head is the masked-LM head (lmHead 'mlm')");
    if (c.lmHead === 'mlm' && c.nClasses !== 0 && c.nClasses !== 2) {
      refuse(
        'nClasses',
        c.nClasses,
        'no Hugging Face BERT class has a masked-LM head and a classifier of other than 2 classes (BertForPreTraining)',
      );
    }
    return 'bert';
  }
  if (c.normPlacement !== 'pre') refuse('normPlacement', c.normPlacement, 'GPT-2 and Llama are pre-norm');
  let arch: HuggingFaceArch;
  if (c.positional === 'learned') arch = 'gpt2';
  else if (c.positional === 'rope')
    arch = c.norm === NEOX_FIXED.norm && c.ffn === NEOX_FIXED.ffn && c.bias === NEOX_FIXED.bias ? 'gpt_neox' : 'llama';
  else return refuse('positional', c.positional, "only 'learned' (GPT-2) and 'rope' (Llama, GPT-NeoX) have a Hugging Face equivalent here");
  if (arch === 'llama' && c.noPositionLayers.length > 0) arch = 'smollm3';
  if (c.ropeScaling !== null && arch === 'gpt2')
    refuse('ropeScaling', c.ropeScaling, 'a GPT-2 checkpoint has learned positions, no RoPE to scale');
  if (c.ropeScaling?.type === 'ntk') refuse('ropeScaling', c.ropeScaling, ROPE_NTK_ON_SAVE);
  if (c.ropeFraction !== 1 && arch === 'llama') refuse('ropeFraction', c.ropeFraction, LLAMA_PARTIAL_ROPE);
  if (c.ropeFraction !== 1 && arch === 'smollm3')
    refuse(
      'ropeFraction',
      c.ropeFraction,
      'SmolLM3 rotates every dim of each head in its RoPE layers (no mapped architecture has partial RoPE with NoPE layers)',
    );
  if (c.ropeKeepFrequencies !== 1) refuse('ropeKeepFrequencies', c.ropeKeepFrequencies, `${NAMES[arch]} has no p-RoPE`);
  if (c.noPositionLayers.length > 0 && arch !== 'smollm3')
    refuse(
      'noPositionLayers',
      c.noPositionLayers,
      `${NAMES[arch]}'s attention uses RoPE in every layer (per-layer NoPE is saved as SmolLM3, no_rope_layers, ` +
        "whose block needs norm 'rmsnorm', ffn 'swiglu' and bias: false)",
    );
  if (c.lmHead !== 'plain') refuse('lmHead', c.lmHead, "a causal LM checkpoint needs lmHead 'plain'");
  for (const [key, plain] of [
    ['typeVocabSize', 0],
    ['embeddingNorm', false],
    ['nClasses', 0],
  ] as const) {
    if (c[key] !== plain) refuse(key, c[key], `GPT-2, Llama and GPT-NeoX have no such option (needs ${JSON.stringify(plain)})`);
  }
  if (c.geluExact && arch !== 'gpt_neox')
    refuse('geluExact', c.geluExact, `${NAMES[arch]} has no exact-GELU option (needs false; GPT-NeoX has hidden_act 'gelu')`);
  const fixed = FIXED[arch];
  for (const key of ['norm', 'ffn', 'bias'] as const) {
    if (c[key] !== fixed[key]) {
      const other = arch === 'llama' ? " (RoPE with norm 'layernorm', ffn 'gelu' and bias: true is saved as GPT-NeoX)" : '';
      refuse(key, c[key], `a ${NAMES[arch]} checkpoint needs ${key} = ${JSON.stringify(fixed[key])}${other}`);
    }
  }
  return arch;
}

/** The heads of our BERT config, as Hugging Face has them (a 2-class head beside MLM is NSP). */
function bertHeadsFor(c: TransformerConfig): BertHead[] {
  const heads: BertHead[] = [];
  if (c.nClasses > 0) heads.push('pooler');
  if (c.lmHead === 'mlm') heads.push('mlm');
  if (c.nClasses > 0) heads.push(c.lmHead === 'mlm' ? 'nsp' : 'classifier');
  return heads;
}

/** The BERT class that holds exactly `heads`. */
function bertClassFor(heads: readonly BertHead[]): string {
  const key = [...heads].sort().join(',');
  const found = Object.entries(BERT_CLASSES).find(([, h]) => [...h].sort().join(',') === key);
  if (!found) throw new UnsupportedConfigError(`saveHuggingFace: no Hugging Face BERT class has the heads ${key}`, 'lmHead', key);
  return found[0];
}

/**
 * The `config.json` of a wasmformer config. Our `dropout` (embeddings and residual branches)
 * becomes GPT-2's `embd_pdrop` and `resid_pdrop` (BERT: `hidden_dropout_prob`); attention
 * probabilities are never dropped. BERT is written as the class of its heads:
 * `BertForMaskedLM`, `BertForPreTraining` (MLM + 2 classes) or `BertForSequenceClassification`.
 * @param extra - fields written first (e.g. `bos_token_id`); mapped fields win over them.
 * @throws UnsupportedConfigError (see {@link huggingFaceArchFor}).
 */
export function configToHuggingFace(c: TransformerConfig, extra: HuggingFaceConfig = {}): HuggingFaceConfig {
  const arch = huggingFaceArchFor(c);
  const table = HF_TABLE[arch];
  const className = arch === 'bert' ? bertClassFor(bertHeadsFor(c)) : table.className;
  // Token ids belong to the tokenizer: null unless `extra` gives them (HF's class defaults,
  // e.g. GPT-2's 50256, would point outside a small vocabulary).
  const out: HuggingFaceConfig = {
    bos_token_id: null,
    eos_token_id: null,
    ...extra,
    architectures: [className],
    model_type: arch,
    dtype: 'float32',
  };
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
  } else if (arch === 'llama') {
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
    if (c.ropeScaling !== null) Object.assign(out, llamaRopeScalingToHuggingFace(c.ropeScaling, c.ropeBase));
  } else if (arch === 'smollm3') {
    Object.assign(out, smollm3ConfigToHuggingFace(c, extra));
  } else if (arch === 'gpt_neox') {
    Object.assign(out, neoxConfigToHuggingFace(c));
  } else {
    Object.assign(out, {
      hidden_act: c.geluExact ? 'gelu' : 'gelu_new',
      position_embedding_type: 'absolute',
      hidden_dropout_prob: c.dropout,
      attention_probs_dropout_prob: 0,
      is_decoder: false,
      add_cross_attention: false,
      pad_token_id: read(extra, 'pad_token_id', null),
    });
    if (className === 'BertForSequenceClassification') {
      out.id2label = Object.fromEntries(Array.from({ length: c.nClasses }, (_, i) => [String(i), `LABEL_${i}`]));
      out.label2id = Object.fromEntries(Array.from({ length: c.nClasses }, (_, i) => [`LABEL_${i}`, i]));
    }
  }
  return out;
}

/**
 * Expands `{l}` for every layer: [ours, hf names, transpose, qkvPerHead] per parameter of `c`
 * whose head is in `heads`.
 */
function* paramPairs(
  arch: HuggingFaceArch,
  c: TransformerConfig,
  heads: ReadonlySet<BertHead>,
): Generator<[string, string[], boolean, boolean]> {
  for (const p of HF_TABLE[arch].params) {
    if (p.tied !== undefined && p.tied !== c.tieEmbeddings) continue;
    if (p.head !== undefined && !heads.has(p.head)) continue;
    const layers = p.ours.includes('{l}') ? c.nLayer : 1;
    for (let l = 0; l < layers; l++) {
      const at = (name: string): string => name.replace('{l}', String(l));
      yield [at(p.ours), p.hf.map(at), p.transpose === true, p.qkvPerHead === true];
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
 * BERT: the heads of the checkpoint that the model has are read; a head the model has but the
 * checkpoint lacks (the masked-LM head of a `BertModel`, a new classifier) is not returned
 * (keep the model's initial values for it), a head the checkpoint has but the model lacks
 * (the pooler of a `BertModel` loaded without `nClasses`) is skipped, as transformers does.
 *
 * @param specs - the parameters of the model built from `c` (`model.paramSpecs`): names and shapes.
 * @param tensors - every tensor of the checkpoint, HF names (with or without the
 *   `transformer.` / `model.` / `bert.` prefix of base-model checkpoints); `null` for a
 *   non-float tensor (allowed only for the index buffers HF saved, e.g. `position_ids`).
 * @throws CheckpointError for a missing, misshapen or unexpected tensor, naming it.
 */
export function weightsFromHuggingFace(
  arch: HuggingFaceArch,
  c: TransformerConfig,
  specs: ReadonlyArray<{ name: string; shape: readonly number[] }>,
  tensors: ReadonlyMap<string, NamedTensor | null>,
): Map<string, NamedTensor> {
  const table = HF_TABLE[arch];
  const shapes = new Map(specs.map((s) => [s.name, [...s.shape]]));
  const byName = new Map<string, NamedTensor>();
  for (const [name, t] of tensors) {
    const prefixed = table.unprefixed.test(name) || name.startsWith(table.prefix) ? name : table.prefix + name;
    if (table.buffers.test(prefixed)) continue;
    if (t === null) throw new CheckpointError(`Hugging Face checkpoint: '${name}' is not a float tensor and not a buffer wasmformer knows`);
    const full = table.aliases?.[prefixed] ?? prefixed;
    if (byName.has(full)) throw new CheckpointError(`Hugging Face checkpoint: '${name}' and '${full}' are the same tensor; keep one`);
    byName.set(full, t);
  }
  if (arch === 'bert' && !c.tieEmbeddings && !byName.has('cls.predictions.decoder.bias') && byName.has('cls.predictions.bias')) {
    // transformers 4 tied decoder.bias to cls.predictions.bias even untied, and saved one name.
    byName.set('cls.predictions.decoder.bias', byName.get('cls.predictions.bias') as NamedTensor);
  }
  const inFile = new Set(arch === 'bert' ? bertHeadsOf(byName.keys()) : []);
  const inModel = new Set(
    arch === 'bert' ? bertHeadsFor(c).concat(c.nClasses > 0 && c.lmHead === 'none' && inFile.has('nsp') ? ['nsp'] : []) : [],
  );
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
  const fresh = new Set<string>();
  for (const [ours, hf, transpose, qkvPerHead] of paramPairs(arch, c, new Set([...inModel].filter((h) => inFile.has(h))))) {
    const shape = shapes.get(ours);
    if (!shape) throw new CheckpointError(`Hugging Face mapping: the model has no parameter '${ours}' (table and model disagree)`);
    if (transpose) {
      out.set(ours, transpose2d(take(hf[0] as string, [shape[1] as number, shape[0] as number])));
    } else if (qkvPerHead) {
      out.set(ours, neoxQkvFromHuggingFace({ shape, data: take(hf[0] as string, shape).data }, c.nHead));
    } else if (hf.length === 1) {
      out.set(ours, { shape, data: take(hf[0] as string, shape).data });
    } else {
      const rows = (shape[0] as number) / hf.length;
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      hf.forEach((name, i) => data.set(take(name, [rows, ...shape.slice(1)]).data, i * (data.length / hf.length)));
      out.set(ours, { shape, data });
    }
  }
  for (const [ours] of paramPairs(arch, c, new Set([...inModel].filter((h) => !inFile.has(h))))) if (!out.has(ours)) fresh.add(ours);
  for (const copy of table.copies) {
    // Some checkpoints store tied tensors twice; the copy must equal what it repeats.
    const stored = byName.get(copy.hf);
    if (!stored || copy.tied !== c.tieEmbeddings) continue;
    const original = out.get(copy.ours);
    if (!original) continue; // a head the model does not have: skipped below with it
    used.add(copy.hf);
    if (copy.written) continue; // unused by transformers here
    if (stored.data.length !== original.data.length || stored.data.some((x, i) => x !== original.data[i])) {
      throw new CheckpointError(
        `Hugging Face checkpoint: '${copy.hf}' should repeat the tensor mapped to '${copy.ours}' (tied) but differs from it`,
      );
    }
  }
  const unmapped = specs.filter((s) => !out.has(s.name) && !fresh.has(s.name)).map((s) => s.name);
  if (unmapped.length > 0) throw new CheckpointError(`Hugging Face mapping: no Hugging Face name for ${unmapped.join(', ')}`);
  // Tensors of a head the model does not have (a BertModel's pooler without nClasses) are skipped.
  const skipped = new Set<string>();
  const absent = new Set([...inFile].filter((h) => !inModel.has(h)));
  for (const tied of [true, false])
    for (const [, hf] of paramPairs(arch, { ...c, tieEmbeddings: tied }, absent)) hf.forEach((n) => skipped.add(n));
  const extra = [...byName.keys()].filter((k) => !used.has(k) && !skipped.has(k));
  if (extra.length > 0)
    throw new CheckpointError(
      `Hugging Face checkpoint: unexpected tensors ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', …' : ''}`,
    );
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
  const heads = new Set(arch === 'bert' ? bertHeadsFor(c) : []);
  for (const copy of HF_TABLE[arch].copies) {
    const t = weights.get(copy.ours);
    if (copy.written && copy.tied === c.tieEmbeddings && (copy.head === undefined || heads.has(copy.head)) && t)
      out.push([copy.hf, { shape: [...t.shape], data: t.data.slice() }]);
  }
  for (const [ours, hf, transpose, qkvPerHead] of paramPairs(arch, c, heads)) {
    const t = weights.get(ours);
    if (!t) throw new CheckpointError(`saveHuggingFace: the model has no tensor '${ours}'`);
    used.add(ours);
    if (transpose || qkvPerHead) {
      out.push([hf[0] as string, transpose ? transpose2d(t) : neoxQkvToHuggingFace(t, c.nHead)]);
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

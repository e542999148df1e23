/** Messages between the page (which only draws) and the training worker (which computes). */
import type { FfnKind, NormKind, NormPlacement, Positional, RuntimeInfo } from 'wasmformer';

/** The model options the Train view offers. */
export interface ModelOptions {
  positional: Positional;
  norm: NormKind;
  normPlacement: NormPlacement;
  ffn: FfnKind;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
}

/** The training options the Train view offers. */
export interface TrainOptions {
  batchSize: number;
  lr: number;
  maxSteps: number;
  /** Steps between validation evaluations. */
  evalEvery: number;
  /** Tokens per training sequence (T); default the model's blockSize. */
  seqLen?: number;
}

/** Sampling options of a generation. */
export interface SampleOptions {
  prompt: string;
  temperature: number;
  topK: number;
  topP: number;
  maxNewTokens: number;
}

/** The page → worker messages. */
export type ToWorker =
  | {
      type: 'start';
      text: string;
      model: ModelOptions;
      train: TrainOptions;
      attentionPrompt: string;
      seed: number;
      /**
       * Context lengths at which to measure the validation loss once training ends (the lab's
       * `long-text`); when given, validation is the whole split in non-overlapping windows.
       */
      contextLengths?: number[];
    }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'generate'; sample: SampleOptions }
  | { type: 'attention'; prompt: string }
  | { type: 'encoding' }
  | { type: 'rope'; rope: RopeRequest };

/** What the RoPE clock asks the package's rope kernel to compute. */
export interface RopeRequest {
  /** D: head size (even). */
  headDim: number;
  base: number;
  /** Linear position scaling (positions / factor); 1 = none. */
  factor: number;
  /** Positions 0 … positions − 1. */
  positions: number;
  seed: number;
}

/** The RoPE clock's data: q and k rotated at every position, and their scores. */
export interface RopeResult {
  request: RopeRequest;
  /** `[P, P]`: score[m·P + n] = rope(q, m) · rope(k, n). */
  scores: Float32Array;
}

/** One sequence's attention maps. */
export interface AttentionData {
  step: number;
  /** The prompt's tokens (characters), T of them. */
  tokens: string[];
  nLayer: number;
  nHead: number;
  causal: boolean;
  /** `[L, H, T, T]` float32 probabilities. */
  weights: Float32Array;
}

/** What the trained model's positional encoding is, for the Positions view. */
export type EncodingData =
  | { kind: 'vectors'; positional: Positional; blockSize: number; nEmbd: number /** `[T, C]` */; vectors: Float32Array }
  | { kind: 'alibi'; positional: Positional; slopes: number[] }
  /** KERPLE's learned rates per head: bias = −r1·ln(1 + r2·distance). */
  | { kind: 'kerple'; positional: Positional; r1: number[]; r2: number[] }
  | { kind: 'relative'; positional: Positional; buckets: number; nHead: number /** `[buckets, H]` */; table: Float32Array }
  | { kind: 'rope'; positional: Positional; headDim: number; base: number }
  | { kind: 'none'; positional: Positional };

/** The worker → page messages. */
export type FromWorker =
  | { type: 'runtime'; info: RuntimeInfo }
  | { type: 'started'; params: number; vocab: number; trainTokens: number; valTokens: number }
  | { type: 'step'; step: number; loss: number; tokensPerSec: number; lr: number }
  | { type: 'eval'; step: number; valLoss: number }
  /** Validation loss per context length; lengths the validation split cannot fill are left out. */
  | { type: 'context'; step: number; points: { len: number; loss: number }[] }
  | { type: 'state'; running: boolean; step: number; done: boolean }
  | { type: 'attention'; data: AttentionData }
  | { type: 'piece'; text: string }
  | { type: 'generated'; text: string }
  | { type: 'encoding'; data: EncodingData }
  | { type: 'rope'; data: RopeResult }
  | { type: 'error'; message: string };

/** The page → BERT worker messages. */
export type BertToWorker =
  | { type: 'mlm'; text: string; steps: number; fill: string }
  | { type: 'fill'; text: string }
  | { type: 'order'; steps: number };

/** The BERT worker → page messages. */
export type BertFromWorker =
  | { type: 'mlm-step'; step: number; loss: number }
  | { type: 'fill'; text: string; candidates: { token: string; score: number }[]; attention: AttentionData }
  | { type: 'order-gap'; positional: 'none' | 'learned'; gap: number }
  | { type: 'order-accuracy'; step: number; accuracy: number[] }
  | { type: 'done'; what: BertToWorker['type'] }
  | { type: 'error'; message: string };

/**
 * wasmformer: transformers that train and run anywhere JavaScript runs.
 * Import from "wasmformer"; the package's exports map picks the Node or browser entry.
 */
export { init, runtimeInfo, setThreadLimit, wasmMemoryBytes } from './wasm/load.js';
export type { InitOptions, RuntimeInfo } from './wasm/load.js';
export type { EngineFeatures, Variant } from './wasm/variants.js';
export * as kernels from './kernels/index.js';
export { matmul } from './kernels/matmul.js';
export type { MatmulForm, MatmulOperand, MatmulOptions } from './kernels/matmul.js';
export { WasmArray } from './kernels/wasm-array.js';
export { attentionTrainingPass, poolSmoke } from './diagnostics.js';
export { GPT } from './models/gpt.js';
export type { SamplingOptions } from './models/sampling.js';
export type { GPTConfigInput, GenerateOptions, StreamOptions, TextTokenizer } from './models/gpt.js';
export { TransformerModel } from './models/transformer.js';
export { BERT } from './models/bert.js';
export type { BERTConfigInput, BertTokenizerLike, EmbedOptions, FillMaskCandidate, Prediction } from './models/bert.js';
export { MaskedLMDataset } from './train/mlm.js';
export type { MaskedLMOptions, MaskedLMSpecials } from './train/mlm.js';
export { ClassificationDataset } from './train/classification.js';
export type { ClassificationBatchOptions, ClassificationExample, ClassificationTokenizer } from './train/classification.js';
export type { BatchSource, ModelBatch } from './train/batches.js';
export type { BatchLosses, MemoryPlan, NamedTensor, ParamSpec } from './models/transformer.js';
export type { AttentionWeights, AttentionWeightsOptions } from './models/attention.js';
export { gluHidden, resolveConfig } from './models/config.js';
export type { FfnKind, LmHeadKind, NormKind, NormPlacement, Positional, RopeScaling, TransformerConfig, TransformerConfigInput } from './models/config.js';
export { Trainer } from './train/trainer.js';
export type { EvalEvent, EvalMetrics, FitResult, StepEvent, TrainerOptions, TrainerState } from './train/trainer.js';
export { TokenDataset } from './train/dataset.js';
export type { TokenBatch, TokenSplit } from './train/dataset.js';
export { Rng } from './train/rng.js';
export { learningRateAt } from './train/schedule.js';
export type { LrScheduleKind, LrScheduleOptions } from './train/schedule.js';
export { lossCurveSvg } from './train/loss-curve.js';
export type { LossPoint, LossSeries } from './train/loss-curve.js';
export { CharTokenizer } from './tokenizers/char.js';
export { BpeTokenizer } from './tokenizers/bpe.js';
export type { BpeDecodeOptions, BpeEncodeOptions, BpeFamily, BpePipeline, BpePipelineJSON, BpeSpecialToken, BpeTokenizerJSON, BpeTrainOptions, BpeVocabMerges, BpeVocabMergesOptions, HuggingFaceAddedToken, HuggingFaceByteLevel, HuggingFaceTokenizerJSON } from './tokenizers/bpe.js';
export { WordPieceTokenizer } from './tokenizers/wordpiece.js';
export type { WordPieceDecodeOptions, WordPieceEncodeOptions, WordPieceEncoding, WordPieceHFAddedToken, WordPieceHFTemplatePiece, WordPieceHFTokenizerJSON, WordPieceSpecialTokenNames, WordPieceTokenizerJSON, WordPieceTrainOptions, WordPieceTruncation, WordPieceVocabOptions } from './tokenizers/wordpiece.js';
export { GRAMMAR_WORDS, grammarCorpus, grammarVocabulary } from './data/grammar.js';
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
export type { ReadSafetensorsOptions, SafetensorsFile, SafetensorsTensor } from './io/safetensors.js';
export { BERT_CLASSES, HF_TABLE, bertHeadsOf, configFromHuggingFace, configToHuggingFace, huggingFaceArch, huggingFaceArchFor, weightsFromHuggingFace, weightsToHuggingFace } from './io/huggingface.js';
export type { BertHead, HuggingFaceArch, HuggingFaceConfig } from './io/huggingface.js';
export type { AttentionTrainingPassOptions, AttentionTrainingPassResult, PoolSmokeReport } from './diagnostics.js';
export {
  CheckpointError,
  DisposedError,
  NumericalError,
  OutOfMemoryError,
  InvalidArgumentError,
  NotInitializedError,
  ShapeError,
  ThreadPoolError,
  UnsupportedConfigError,
  UnsupportedError,
  WasmformerError,
} from './errors.js';

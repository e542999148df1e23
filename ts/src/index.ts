/**
 * wasmformer: transformers that train and run anywhere JavaScript runs.
 * Import from "wasmformer"; the package's exports map picks the Node or browser entry. This
 * file is the API both share, grouped as the documentation is: runtime, models, training,
 * tokenizers, I/O, kernels, data, errors. Building blocks that are not user API (the Hugging
 * Face name table, config resolution, diagnostics) are in "wasmformer/internals".
 */

// Runtime: load the WebAssembly build, threads, memory.
export { init, runtimeInfo, setThreadLimit, wasmMemoryBytes } from './wasm/load.js';
export type { InitOptions, RuntimeInfo, SkippedVariant } from './wasm/load.js';
export type { EngineFeatures, Variant } from './wasm/variants.js';

// Models: GPT (decoder) and BERT (encoder) over one transformer core, and their configuration.
export { GPT } from './models/gpt.js';
export type { GPTConfigInput, GenerateOptions, QuantizeOptions, StreamOptions, TextTokenizer } from './models/gpt.js';
export type { SamplingOptions } from './models/sampling.js';
export { BERT } from './models/bert.js';
export type {
  BERTConfigInput,
  BertEncoding,
  BertTokenizerLike,
  EmbedOptions,
  EncodedBatch,
  FillMaskCandidate,
  Prediction,
} from './models/bert.js';
export { TransformerModel } from './models/transformer.js';
export type { BatchEvaluation, BatchGradients, BatchLosses, Gradients, MemoryPlan, NamedTensor, ParamSpec } from './models/transformer.js';
export type { AttentionWeights, AttentionWeightsOptions } from './models/attention.js';
export type {
  FfnKind,
  LmHeadKind,
  NormKind,
  NormPlacement,
  Positional,
  RopeScaling,
  TransformerConfig,
  TransformerConfigInput,
} from './models/config.js';

// Training: the trainer, batch sources, schedule, loss curves.
export { Trainer } from './train/trainer.js';
export type {
  EarlyStopping,
  EvalEvent,
  EvalMetrics,
  FitResult,
  LossRecord,
  ResolvedTrainerOptions,
  StepEvent,
  TrainerOptions,
  TrainerState,
  TrainingHistory,
} from './train/trainer.js';
export type { BatchSource, ModelBatch } from './train/batches.js';
export { TokenDataset } from './train/dataset.js';
export type { TokenBatch, TokenDatasetOptions, TokenSplit } from './train/dataset.js';
export { MaskedLMDataset } from './train/mlm.js';
export type { MaskedLMOptions, MaskedLMSpecials } from './train/mlm.js';
export { ClassificationDataset } from './train/classification.js';
export type { ClassificationBatchOptions, ClassificationExample, ClassificationTokenizer } from './train/classification.js';
export { Rng } from './train/rng.js';
export { learningRateAt } from './train/schedule.js';
export type { LrScheduleKind, LrScheduleOptions } from './train/schedule.js';
export { lossCurveSvg } from './train/loss-curve.js';
export type { LossCurveOptions, LossPoint, LossSeries } from './train/loss-curve.js';

// Tokenizers: characters, byte-level and SentencePiece-style BPE, WordPiece.
export { CharTokenizer } from './tokenizers/char.js';
export type { CharTokenizerJSON } from './tokenizers/char.js';
export { BpeTokenizer } from './tokenizers/bpe.js';
export type {
  BpeDecodeOptions,
  BpeDecoderStep,
  BpeEncodeOptions,
  BpeFamily,
  BpeNormalizerStep,
  BpePipeline,
  BpePipelineJSON,
  BpePreTokenizer,
  BpeSpecialToken,
  BpeTemplate,
  BpeTemplatePiece,
  BpeTokenizerJSON,
  BpeTrainOptions,
  BpeVocabMerges,
  BpeVocabMergesOptions,
  HuggingFaceAddedToken,
  HuggingFaceByteLevel,
  HuggingFaceTokenizerJSON,
  MetaspacePrependScheme,
} from './tokenizers/bpe.js';
export type {
  HuggingFaceTemplatePiece,
  HuggingFaceTemplateProcessing,
  HuggingFaceTemplateSequence,
  HuggingFaceTemplateSpecial,
  HuggingFaceTemplateToken,
} from './tokenizers/huggingface-json.js';
export { WordPieceTokenizer } from './tokenizers/wordpiece.js';
export type {
  WordPieceDecodeOptions,
  WordPieceEncodeOptions,
  WordPieceEncoding,
  WordPieceHFAddedToken,
  WordPieceHFTemplatePiece,
  WordPieceHFTokenizerJSON,
  WordPieceSpecialTokenNames,
  WordPieceTokenizerJSON,
  WordPieceTrainOptions,
  WordPieceTruncation,
  WordPieceVocabOptions,
} from './tokenizers/wordpiece.js';

// I/O without a file system: safetensors bytes, Hugging Face configs and weights.
export { readSafetensors, writeSafetensors } from './io/safetensors.js';
export type {
  ReadSafetensorsOptions,
  SafetensorsDtype,
  SafetensorsFile,
  SafetensorsTensor,
  SafetensorsTensorInput,
} from './io/safetensors.js';
export { configFromHuggingFace, configToHuggingFace, weightsFromHuggingFace, weightsToHuggingFace } from './io/huggingface.js';
export type { BertHead, HuggingFaceConfig } from './io/huggingface.js';
export { GGUF_DECODED_TYPES, decodeGgufTensor, readGguf } from './io/gguf.js';
export type { GgmlTypeName, GgufFile, GgufTensorInfo, GgufValue, ReadGgufOptions } from './io/gguf.js';
export { ggufArch, ggufToHuggingFaceConfig, ggufToHuggingFaceTensors, loadGguf } from './io/gguf-model.js';
export type { GgufArch, LoadGgufOptions } from './io/gguf-model.js';

// Kernels: single ops over typed arrays, and arrays that stay in WebAssembly memory.
/**
 * Single ops over typed arrays (matmul, attention, RoPE, GLU, norms, softmax, cross-entropy):
 * shapes checked before WebAssembly runs, results returned as new JS-owned arrays.
 */
export * as kernels from './kernels/index.js';
export { matmul } from './kernels/matmul.js';
export type { MatmulForm, MatmulOperand, MatmulOptions } from './kernels/matmul.js';
export { WasmArray } from './kernels/wasm-array.js';

// Data: a tiny synthetic corpus for demos and tests.
export { GRAMMAR_WORDS, grammarCorpus, grammarVocabulary } from './data/grammar.js';
export type { GrammarCorpusOptions, GrammarNounClass, GrammarWords } from './data/grammar.js';

// Errors: every error wasmformer throws is a WasmformerError.
export {
  CheckpointError,
  DisposedError,
  InvalidArgumentError,
  NotInitializedError,
  NumericalError,
  OutOfMemoryError,
  ShapeError,
  ThreadPoolError,
  UnsupportedConfigError,
  UnsupportedError,
  WasmformerError,
} from './errors.js';

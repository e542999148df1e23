/**
 * wasmformer/internals: building blocks the package uses itself, exported for tools, tests
 * and benchmarks. They are not part of the user API and may change in any release.
 *
 * - the Hugging Face name table and what reads it (`HF_TABLE`, `BERT_CLASSES`,
 *   `bertHeadsOf`, `huggingFaceArch`, `huggingFaceArchFor`);
 * - configuration resolution (`resolveConfig`, `gluHidden`), which `GPT.create` and
 *   `BERT.create` apply with their own defaults;
 * - diagnostics (`poolSmoke`: does every pool thread compute; `attentionTrainingPass`: the
 *   attention kernels' forward and backward, for benchmarks);
 * - WebGPU, first milestone: the device (`requestGpu`, `Gpu`, with its typed errors `GpuError`
 *   and `DeviceLostError`), WGSL checked into a pipeline with the compiler's messages
 *   (`compileGpuShader`), error scopes (`withErrorScopes`) and the matrix product
 *   (`gpuMatmul`, `GpuMatmul`); the training kernels with their backward passes
 *   (`gpuLayerNorm`, `gpuRmsNorm`, `gpuActivation`, `gpuGlu`, `gpuCrossEntropy`, `gpuEmbedding`, `gpuRope` and their `…Backward`), and the optimizer step (`gpuAdamW`,
 *   `gpuClipGradNorm`). In Node it needs the optional peer dependency `webgpu`.
 *
 * Import "wasmformer" too: `init()` is there, and this entry shares its WebAssembly instance.
 *
 * @module wasmformer/internals
 */

// Hugging Face layout.
export { BERT_CLASSES, HF_TABLE, bertHeadsOf, huggingFaceArch, huggingFaceArchFor } from './io/huggingface.js';
export type { ArchTable, ConfigField, CopyField, HuggingFaceArch, ParamField } from './io/huggingface.js';

// Configuration.
export { gluHidden, resolveConfig } from './models/config.js';

// Diagnostics.
export { attentionTrainingPass, poolSmoke } from './diagnostics.js';
export { failPoolWorkerDuringNextCall, stopPoolWorker } from './wasm/load.js';
export type { AttentionTrainingPassOptions, AttentionTrainingPassResult, PoolSmokeReport } from './diagnostics.js';

// WebGPU.
export { DeviceLostError, GpuError } from './errors.js';
export type { GpuErrorKind } from './errors.js';
export { gpuActivation, gpuActivationBackward, gpuGlu, gpuGluBackward } from './webgpu/activation.js';
export type {
  GpuActivationBackwardInputs,
  GpuActivationKind,
  GpuActivationOptions,
  GpuGluBackwardInputs,
  GpuGluGradients,
  GpuGluKind,
  GpuGluOptions,
} from './webgpu/activation.js';
export { gpuAdamW } from './webgpu/adamw.js';
export type { GpuAdamWOptions, GpuAdamWResult, GpuAdamWState } from './webgpu/adamw.js';
export { gpuClipGradNorm } from './webgpu/clip.js';
export type { GpuClipOptions, GpuClipResult } from './webgpu/clip.js';
export { gpuCrossEntropy, gpuCrossEntropyBackward } from './webgpu/cross_entropy.js';
export type {
  GpuCrossEntropyBackwardInputs,
  GpuCrossEntropyBackwardOptions,
  GpuCrossEntropyOptions,
  GpuCrossEntropyResult,
} from './webgpu/cross_entropy.js';
export { Gpu, requestGpu } from './webgpu/device.js';
export { embeddingCsr, gpuEmbedding, gpuEmbeddingBackward } from './webgpu/embedding.js';
export type {
  EmbeddingCsr,
  GpuEmbeddingBackwardInputs,
  GpuEmbeddingBackwardOptions,
  GpuEmbeddingGradients,
  GpuEmbeddingOptions,
} from './webgpu/embedding.js';
export type { GpuAdapterDescription, GpuLimits, RequestGpuOptions } from './webgpu/device.js';
export { GpuMatmul, gpuMatmul } from './webgpu/matmul.js';
export type { GpuMatmulForm, GpuMatmulOptions, GpuMatmulShape } from './webgpu/matmul.js';
export {
  gpuLayerNorm,
  gpuLayerNormBackward,
  gpuRmsNorm,
  gpuRmsNormBackward,
} from './webgpu/norm.js';
export type {
  GpuLayerNormBackwardInputs,
  GpuLayerNormBackwardOptions,
  GpuLayerNormGradients,
  GpuLayerNormResult,
  GpuNormOptions,
  GpuRmsNormBackwardInputs,
  GpuRmsNormGradients,
  GpuRmsNormResult,
} from './webgpu/norm.js';
export { compileGpuShader } from './webgpu/pipeline.js';
export type { GpuPipelineOptions } from './webgpu/pipeline.js';
export { gpuRope, gpuRopeBackward, ropeTable } from './webgpu/rope.js';
export type { GpuRopeOptions, RopeTableArrays } from './webgpu/rope.js';
export { withErrorScopes } from './webgpu/scopes.js';

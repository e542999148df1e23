/**
 * wasmformer/internals: building blocks the package uses itself, exported for tools, tests
 * and benchmarks. They are not part of the user API and may change in any release.
 *
 * - the Hugging Face name table and what reads it (`HF_TABLE`, `BERT_CLASSES`,
 *   `bertHeadsOf`, `huggingFaceArch`, `huggingFaceArchFor`);
 * - configuration resolution (`resolveConfig`, `gluHidden`), which `GPT.create` and
 *   `BERT.create` apply with their own defaults;
 * - diagnostics (`poolSmoke`: does every pool thread compute; `attentionTrainingPass`: the
 *   attention kernels' forward and backward, for benchmarks).
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

/**
 * Low-level kernels over typed arrays: forward passes of the ops the models are built from.
 * Shapes are checked before any WebAssembly runs; results are new JS-owned arrays (matmul
 * can also read and write {@link WasmArray}s, which stay in WebAssembly memory between calls).
 */
export { matmul } from './matmul.js';
export type { MatmulForm, MatmulOperand, MatmulOptions } from './matmul.js';
export { WasmArray } from './wasm-array.js';
export { attention } from './attention.js';
export type { AttentionOptions } from './attention.js';
export { rope } from './rope.js';
export type { RopeOptions } from './rope.js';
export { activation, glu } from './glu.js';
export type { ActivationKind, GluKind } from './glu.js';
export { layerNorm, rmsNorm } from './norm.js';
export type { NormOptions } from './norm.js';
export { crossEntropy, softmax } from './softmax.js';
export type { CrossEntropyOptions, CrossEntropyResult, SoftmaxOptions } from './softmax.js';
export { LinearWeight } from './int8-linear.js';
export type { LinearApplyOptions, LinearDtype, LinearWeightOptions } from './int8-linear.js';

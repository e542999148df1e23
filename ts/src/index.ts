/**
 * wasmformer: transformers that train and run anywhere JavaScript runs.
 * Import from "wasmformer"; the package's exports map picks the Node or browser entry.
 */
export { init, runtimeInfo, setThreadLimit } from './wasm/load.js';
export type { InitOptions, RuntimeInfo } from './wasm/load.js';
export type { EngineFeatures, Variant } from './wasm/variants.js';
export * as kernels from './kernels/index.js';
export { matmul } from './kernels/matmul.js';
export type { MatmulForm, MatmulOptions } from './kernels/matmul.js';
export { poolSmoke } from './diagnostics.js';
export type { PoolSmokeReport } from './diagnostics.js';
export {
  InvalidArgumentError,
  NotInitializedError,
  ShapeError,
  ThreadPoolError,
  UnsupportedError,
  WasmformerError,
} from './errors.js';

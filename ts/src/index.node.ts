/**
 * Transformers (GPT, BERT) that train and run anywhere JavaScript runs: a Rust core compiled
 * to WebAssembly (SIMD, threads) behind a typed API.
 *
 * `import { init, GPT, Trainer } from 'wasmformer'`. In Node this entry also has the file
 * I/O: checkpoints (`saveCheckpoint`, `loadCheckpoint`, `loadBertCheckpoint`), Hugging Face
 * directories (`loadHuggingFace`, `saveHuggingFace`) and tokenizer files
 * (`loadBpeTokenizer`, `saveBpeTokenizer`); the browser entry is everything else.
 *
 * @module wasmformer
 */
import { nodePlatform } from './platform/node.js';
import { setPlatform } from './wasm/platform.js';

setPlatform(nodePlatform);

// Everything the browser entry has (runtime, models, training, tokenizers, I/O, kernels, data, errors).
export * from './index.js';

// I/O on files (Node only): checkpoints, Hugging Face directories, tokenizer files.
export { loadBertCheckpoint, loadCheckpoint, saveCheckpoint } from './io/checkpoint.node.js';
export type { CheckpointTokenizer, LoadedCheckpoint } from './io/checkpoint.node.js';
export { loadHuggingFace, saveHuggingFace } from './io/huggingface.node.js';
export type { LoadHuggingFaceOptions, SaveHuggingFaceOptions } from './io/huggingface.node.js';
export { loadBpeTokenizer, saveBpeTokenizer } from './io/tokenizer.node.js';
export { loadGgufFile, readGgufFile } from './io/gguf.node.js';

/** The package entry for Node: installs the Node platform, then exports the API. */
import { nodePlatform } from './platform/node.js';
import { setPlatform } from './wasm/platform.js';

setPlatform(nodePlatform);
export * from './index.js';
export { loadBertCheckpoint, loadCheckpoint, saveCheckpoint } from './io/checkpoint.node.js';
export type { CheckpointTokenizer, LoadedCheckpoint } from './io/checkpoint.node.js';
export { loadHuggingFace, saveHuggingFace } from './io/huggingface.node.js';
export type { LoadHuggingFaceOptions, SaveHuggingFaceOptions } from './io/huggingface.node.js';
export { loadBpeTokenizer, saveBpeTokenizer } from './io/tokenizer.node.js';

/**
 * GGUF files from a path (Node). The format is read in `gguf.ts`, the model built in
 * `gguf-model.ts`; this file only reads the bytes.
 */
import type { GPT } from '../models/gpt.js';
import { readFileChecked } from './files.node.js';
import { type GgufFile, readGguf } from './gguf.js';
import { type LoadGgufOptions, loadGguf } from './gguf-model.js';

/**
 * Reads and parses a GGUF file (see {@link readGguf}).
 * @throws CheckpointError for a missing, unreadable or malformed file, naming it.
 */
export async function readGgufFile(path: string): Promise<GgufFile> {
  return readGguf(await readFileChecked(path, 'GGUF file'), { source: path });
}

/**
 * Loads a Llama or GPT-2 GGUF file from `path` as a {@link GPT} (see {@link loadGguf}).
 * Needs `await init()` first.
 *
 * @example
 * ```ts
 * await init();
 * const gpt = (await loadGgufFile('models/tiny-llama-q8_0.gguf')).quantize({ weights: 'int8' });
 * ```
 * @throws CheckpointError for a missing or malformed file; UnsupportedConfigError for a model
 *   wasmformer does not implement (both name what is wrong).
 */
export async function loadGgufFile(path: string, options: LoadGgufOptions = {}): Promise<GPT> {
  return loadGguf(await readFileChecked(path, 'GGUF file'), { source: path, ...options });
}

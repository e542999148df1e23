/**
 * Node-only files of a BPE tokenizer: reading Hugging Face `tokenizer.json` (GPT-2, Llama-3 or
 * SentencePiece-style), GPT-2's `vocab.json` + `merges.txt` or wasmformer's own JSON, and
 * writing the HF files.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, InvalidArgumentError } from '../errors.js';
import { BpeTokenizer } from '../tokenizers/bpe.js';
import { readFileChecked, writeFileAtomic } from './files.node.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

async function readText(path: string, what: string): Promise<string> {
  const bytes = await readFileChecked(path, what);
  try {
    return utf8.decode(bytes);
  } catch (error) {
    throw new CheckpointError(`${what} at ${path} is not valid UTF-8`, { cause: error });
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  const text = await readText(path, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CheckpointError(`${what} at ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Loads a BPE tokenizer from disk (any kind {@link BpeTokenizer.fromHuggingFace} reads).
 *
 * @param path - a `.json` file (a Hugging Face `tokenizer.json`, or `BpeTokenizer.toJSON()`
 *   output, recognised by `type: 'bpe'`), or a directory holding `tokenizer.json`, or else
 *   `vocab.json` + `merges.txt` (GPT-2's files; `<|endoftext|>` is special if present).
 * @throws CheckpointError if the files are missing, unreadable or malformed;
 *   UnsupportedConfigError for a tokenizer.json wasmformer does not implement.
 */
export async function loadBpeTokenizer(path: string): Promise<BpeTokenizer> {
  if (typeof path !== 'string' || path === '') throw new InvalidArgumentError('loadBpeTokenizer: path must be a non-empty string');
  const info = await stat(path).catch((error: unknown) => {
    throw new CheckpointError(`tokenizer not found: ${path}`, { cause: error });
  });
  if (!info.isDirectory()) {
    const json = await readJson(path, 'tokenizer file');
    const ours = typeof json === 'object' && json !== null && (json as { type?: unknown }).type === 'bpe';
    return ours ? BpeTokenizer.fromJSON(json) : BpeTokenizer.fromHuggingFace(json);
  }
  const tokenizerJson = join(path, 'tokenizer.json');
  if (await exists(tokenizerJson)) return BpeTokenizer.fromHuggingFace(await readJson(tokenizerJson, 'tokenizer.json'));
  const vocabPath = join(path, 'vocab.json');
  const mergesPath = join(path, 'merges.txt');
  if (!(await exists(vocabPath))) {
    throw new CheckpointError(`no tokenizer in ${path}: expected tokenizer.json, or vocab.json and merges.txt`);
  }
  const vocab = await readJson(vocabPath, 'vocab.json');
  const merges = await readText(mergesPath, 'merges.txt');
  if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
    throw new CheckpointError(`vocab.json at ${vocabPath} must be an object { token: id }`);
  }
  return BpeTokenizer.fromVocabMerges(vocab as Record<string, number>, merges);
}

/**
 * Writes `tokenizer.json` (Hugging Face `tokenizers` format) into `dir` (created if needed),
 * plus `vocab.json` and `merges.txt` (GPT-2's format) for a GPT-2-style tokenizer (those files
 * cannot hold a Llama-3 or SentencePiece-style pipeline); each file is written atomically.
 * transformers loads the directory with `PreTrainedTokenizerFast(tokenizer_file=...)` or
 * `GPT2TokenizerFast(vocab_file=..., merges_file=...)`.
 *
 * @returns the paths written.
 * @throws CheckpointError if the directory cannot be created or a file cannot be written.
 */
export async function saveBpeTokenizer(dir: string, tokenizer: BpeTokenizer): Promise<string[]> {
  if (!(tokenizer instanceof BpeTokenizer)) throw new InvalidArgumentError('saveBpeTokenizer: tokenizer must be a BpeTokenizer');
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new CheckpointError(`could not create the tokenizer directory ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const files: [string, string][] = [[join(dir, 'tokenizer.json'), `${JSON.stringify(tokenizer.toHuggingFace(), null, 2)}\n`]];
  if (tokenizer.family === 'gpt2') {
    const { vocab, merges } = tokenizer.toVocabMerges();
    files.push([join(dir, 'vocab.json'), `${JSON.stringify(vocab)}\n`], [join(dir, 'merges.txt'), merges]);
  }
  for (const [path, text] of files) await writeFileAtomic(path, text);
  return files.map(([path]) => path);
}

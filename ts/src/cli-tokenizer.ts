/**
 * `wasmformer tokenizer …`: tokenizer commands of the CLI (no WebAssembly needed).
 *
 *   wasmformer tokenizer train --data file.txt --vocab-size N --out dir [--special '<|endoftext|>'] [--min-frequency 2]
 *
 * trains a byte-level BPE tokenizer and writes tokenizer.json, vocab.json and merges.txt.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BpeTokenizer, InvalidArgumentError, saveBpeTokenizer } from './index.node.js';

const HELP = `wasmformer tokenizer — byte-level BPE tokenizers (GPT-2 style)

Usage:
  wasmformer tokenizer train --data file.txt --vocab-size N --out dir [--special TOKEN]... [--min-frequency 2]

Writes dir/tokenizer.json (Hugging Face format), dir/vocab.json and dir/merges.txt (GPT-2 format).
--special is repeatable; special tokens get the first ids. Pairs seen fewer than --min-frequency
times are not merged (so the vocabulary can end up smaller than --vocab-size).
`;

function integer(raw: string | undefined, name: string, fallback?: number): number {
  if (raw === undefined) {
    if (fallback === undefined) throw new InvalidArgumentError(`tokenizer train needs --${name}`);
    return fallback;
  }
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value)) throw new InvalidArgumentError(`--${name} must be an integer, got '${raw}'`);
  return value;
}

/**
 * Runs `wasmformer tokenizer <args>`.
 *
 * @param argv - the arguments after `tokenizer`.
 * @returns the process exit code.
 * @throws InvalidArgumentError for bad or missing flags; CheckpointError if the output cannot be written.
 */
export async function tokenizerCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      'vocab-size': { type: 'string' },
      out: { type: 'string' },
      special: { type: 'string', multiple: true },
      'min-frequency': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  const command = positionals[0];
  if (values.help || command === undefined) {
    console.log(HELP);
    return values.help ? 0 : 1;
  }
  if (command !== 'train') throw new InvalidArgumentError(`unknown tokenizer command '${command}' (train)`);
  if (positionals.length > 1) throw new InvalidArgumentError(`unexpected argument '${positionals[1] ?? ''}'`);
  const data = values.data;
  const out = values.out;
  if (data === undefined) throw new InvalidArgumentError('tokenizer train needs --data file.txt');
  if (out === undefined) throw new InvalidArgumentError('tokenizer train needs --out dir');
  const vocabSize = integer(values['vocab-size'], 'vocab-size');
  const minFrequency = integer(values['min-frequency'], 'min-frequency', 2);
  const specialTokens = values.special ?? [];

  let text: string;
  try {
    text = readFileSync(data, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(`cannot read --data ${data}: ${(error as Error).message}`);
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  const started = performance.now();
  const tokenizer = BpeTokenizer.train(text, { vocabSize, specialTokens, minFrequency });
  const trainMs = performance.now() - started;
  const encodeStarted = performance.now();
  const tokens = tokenizer.encode(text).length;
  const encodeMs = performance.now() - encodeStarted;
  const written = await saveBpeTokenizer(out, tokenizer);

  const mb = bytes / 1e6;
  console.log(`data: ${data} — ${bytes.toLocaleString()} bytes`);
  console.log(
    `tokenizer: vocabulary ${tokenizer.vocabSize.toLocaleString()} (${specialTokens.length} special + 256 bytes + ` +
      `${tokenizer.merges.length.toLocaleString()} merges)${tokenizer.vocabSize < vocabSize ? `; stopped early: no pair occurs ${minFrequency}+ times` : ''}`,
  );
  console.log(`trained in ${(trainMs / 1000).toFixed(2)} s`);
  console.log(
    `training text: ${tokens.toLocaleString()} tokens, ${(bytes / Math.max(tokens, 1)).toFixed(2)} bytes/token; ` +
      `encoded in ${(encodeMs / 1000).toFixed(2)} s (${(mb / (encodeMs / 1000)).toFixed(1)} MB/s)`,
  );
  console.log(`saved: ${written.join(', ')}`);
  return 0;
}

/**
 * The file loaders on hostile files: a BPE tokenizer file, a Hugging Face checkpoint
 * directory and a wasmformer checkpoint, each fed random and mutated bytes / JSON. The
 * property (./fuzz.ts): the model loads, or a typed error; never an untyped error or a hang,
 * and no model is left allocated.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CharTokenizer,
  GPT,
  init,
  loadBpeTokenizer,
  loadCheckpoint,
  loadHuggingFace,
  saveCheckpoint,
  WasmformerError,
} from '../../../dist/index.node.js';
import { byteEdit, expectTypedOutcomeAsync, FUZZ_RUNS, fuzzParams, jsonEdit, mutateBytes, mutateJson } from './fuzz.js';

const FIXTURES = join(import.meta.dirname, '../fixtures');
const fixture = (path: string): Buffer => readFileSync(join(FIXTURES, path));
const fixtureJson = (path: string): unknown => JSON.parse(fixture(path).toString('utf8'));

describe('fuzzed files on disk: loaders give typed errors', () => {
  let dir = '';
  beforeAll(async () => {
    await init();
    dir = mkdtempSync(join(tmpdir(), 'wasmformer-fuzz-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('loadBpeTokenizer on random and mutated files', async () => {
    const valid = new Uint8Array(fixture('bpe/tokenizer.json'));
    const path = join(dir, 'tokenizer.json');
    const runs = Math.ceil(FUZZ_RUNS / 4);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.array(byteEdit, { minLength: 1, maxLength: 4 }).map((e) => mutateBytes(valid, e)),
        ),
        async (bytes) => {
          writeFileSync(path, bytes);
          await expectTypedOutcomeAsync(async () => (await loadBpeTokenizer(path)).encode('the cat'), WasmformerError);
        },
      ),
      fuzzParams(runs),
    );
  });

  it('loadHuggingFace on mutated model.safetensors and config.json', async () => {
    const hfDir = join(dir, 'hf');
    cpSync(join(FIXTURES, 'hf/gpt2'), hfDir, { recursive: true });
    const weights = new Uint8Array(fixture('hf/gpt2/model.safetensors'));
    const config = fixtureJson('hf/gpt2/config.json');
    const runs = Math.ceil(FUZZ_RUNS / 4);
    const outcomes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(byteEdit, { minLength: 1, maxLength: 4 }), async (edits) => {
        writeFileSync(join(hfDir, 'model.safetensors'), mutateBytes(weights, edits));
        outcomes.add(await expectTypedOutcomeAsync(async () => (await loadHuggingFace(hfDir)).dispose(), WasmformerError));
      }),
      fuzzParams(runs),
    );
    writeFileSync(join(hfDir, 'model.safetensors'), weights);
    // Config edits keep to fields whose change cannot legitimately describe a larger model
    // than the weights file holds (sizes are checked against the tensors).
    await fc.assert(
      fc.asyncProperty(fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), async (edits) => {
        writeFileSync(join(hfDir, 'config.json'), JSON.stringify(mutateJson(config, edits)));
        outcomes.add(await expectTypedOutcomeAsync(async () => (await loadHuggingFace(hfDir)).dispose(), WasmformerError));
      }),
      fuzzParams(runs),
    );
    expect(outcomes).toContain('CheckpointError');
  });

  it('loadCheckpoint on mutated checkpoint.json and weight files', async () => {
    const ckpt = join(dir, 'ckpt');
    const gpt = GPT.create({ vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 }, { seed: 1 });
    await saveCheckpoint(ckpt, { model: gpt, tokenizer: CharTokenizer.fromText('hello world') });
    gpt.dispose();
    const json = JSON.parse(readFileSync(join(ckpt, 'checkpoint.json'), 'utf8')) as unknown;
    const weights = new Uint8Array(readFileSync(join(ckpt, 'model.safetensors')));
    const runs = Math.ceil(FUZZ_RUNS / 4);
    const outcomes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        fc.array(jsonEdit, { minLength: 1, maxLength: 3 }),
        fc.option(fc.array(byteEdit, { minLength: 1, maxLength: 3 })),
        async (edits, byteEdits) => {
          writeFileSync(join(ckpt, 'checkpoint.json'), JSON.stringify(mutateJson(json, edits)));
          writeFileSync(join(ckpt, 'model.safetensors'), byteEdits ? mutateBytes(weights, byteEdits) : weights);
          outcomes.add(await expectTypedOutcomeAsync(async () => (await loadCheckpoint(ckpt)).model.dispose(), WasmformerError));
        },
      ),
      fuzzParams(runs),
    );
    expect(outcomes).toContain('CheckpointError');
  });
});

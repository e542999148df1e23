import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  BpeTokenizer,
  CheckpointError,
  GPT,
  init,
  loadCheckpoint,
  saveBpeTokenizer,
  saveCheckpoint,
  saveHuggingFace,
} from '../../../dist/index.node.js';

const CLI = fileURLToPath(new URL('../../../dist/cli.js', import.meta.url));

beforeAll(async () => {
  await init();
});

describe('checkpoints keep their tokenizer', () => {
  it('round-trips a byte-level BPE tokenizer and refuses an unknown tokenizer type', async () => {
    const text = 'the dog chased the cat. the cat chased the bird. '.repeat(30);
    const tokenizer = BpeTokenizer.train(text, { vocabSize: 300 });
    const gpt = GPT.create({ vocabSize: tokenizer.vocabSize, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16 });
    const root = await mkdtemp(join(tmpdir(), 'wasmformer-ckpt-'));
    const dir = join(root, 'ckpt');
    await saveCheckpoint(dir, { model: gpt, tokenizer });
    const loaded = await loadCheckpoint(dir);
    expect(loaded.tokenizer).toBeInstanceOf(BpeTokenizer);
    expect(Array.from((loaded.tokenizer as BpeTokenizer).encode('the bird chased the dog.'))).toEqual(
      Array.from(tokenizer.encode('the bird chased the dog.')),
    );
    loaded.model.dispose();
    const path = join(dir, 'checkpoint.json');
    const json = JSON.parse(await readFile(path, 'utf8')) as { tokenizer: { type: string } };
    json.tokenizer.type = 'sentencepiece';
    await writeFile(path, JSON.stringify(json));
    await expect(loadCheckpoint(dir)).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/unknown tokenizer type "sentencepiece"/);
    gpt.dispose();
    await rm(root, { recursive: true, force: true });
  });
});

describe('wasmformer generate', () => {
  it('streams from a Hugging Face directory (config.json + model.safetensors + tokenizer.json) as from a checkpoint', async () => {
    const text = 'the dog chased the cat. the cat chased the bird. '.repeat(30);
    const tokenizer = BpeTokenizer.train(text, { vocabSize: 300 });
    const gpt = GPT.create({ vocabSize: tokenizer.vocabSize, blockSize: 32, nLayer: 1, nHead: 2, nEmbd: 16 }, { seed: 4 });
    const root = await mkdtemp(join(tmpdir(), 'wasmformer-gen-'));
    await saveHuggingFace(gpt, join(root, 'hf'));
    await saveBpeTokenizer(join(root, 'hf'), tokenizer);
    await saveCheckpoint(join(root, 'ckpt'), { model: gpt, tokenizer });
    const run = (dir: string): string =>
      execFileSync(
        process.execPath,
        [CLI, 'generate', '--checkpoint', dir, '--prompt', 'the dog', '--max-tokens', '12', '--temperature', '0'],
        { encoding: 'utf8', timeout: 60_000 },
      );
    const fromHf = run(join(root, 'hf'));
    const expected = tokenizer.decode(gpt.generate(tokenizer.encode('the dog'), { maxNewTokens: 12, temperature: 0 }));
    expect(fromHf.trimEnd()).toBe(expected);
    expect(run(join(root, 'ckpt'))).toBe(fromHf);
    gpt.dispose();
    await rm(root, { recursive: true, force: true });
  });
});

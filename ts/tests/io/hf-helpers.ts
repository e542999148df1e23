// Helpers shared by the Hugging Face parity tests (GPT-2/Llama/GPT-NeoX/SmolLM3 and BERT).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  type GPT,
  type NamedTensor,
  type TransformerConfig,
  type TransformerConfigInput,
  loadHuggingFace,
  readSafetensors,
  saveHuggingFace,
  weightsToHuggingFace,
} from '../../../dist/index.node.js';

export async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/** Largest |a[i] − b[i]| (the lengths must match). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

/** Largest |a[i]|. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] as number));
  return m;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The tensors of a safetensors file as raw little-endian bytes (to compare bit for bit). */
export function tensorBytes(file: Uint8Array): Map<string, { shape: number[]; bytes: Buffer }> {
  const parsed = readSafetensors(file);
  return new Map(
    [...parsed.tensors].map(([k, t]) => [k, { shape: t.shape, bytes: Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength) }]),
  );
}

/** A causal-LM fixture's `expected.json` (make_hf_fixtures.py): logits, loss and greedy generations of fixed inputs. */
export interface CausalLMExpected {
  batchSize: number;
  seqLen: number;
  ids: number[];
  targets: number[];
  logits: number[];
  loss: number;
  generations: Array<{ prompt: number[]; tokens: number[] }>;
}

/** A causal-LM fixture with gradients: rows `[from, to)` of a few Hugging Face tensors' gradients. */
export interface CausalLMExpectedWithGrads extends CausalLMExpected {
  grads: Array<{ name: string; shape: number[]; rows: [number, number]; data: number[] }>;
}

/** A recorded gradient slice: rows `[from, to)` of one Hugging Face tensor's gradient. */
export type ExpectedGradSlice = CausalLMExpectedWithGrads['grads'][number];

/**
 * Every recorded gradient slice within 1e-4 relative of ours (`grads` in wasmformer's names,
 * mapped to Hugging Face's for `config`); returns one "name relative-error" line per slice.
 */
export function expectGradientSlices(
  config: TransformerConfig,
  grads: Map<string, NamedTensor>,
  expected: readonly ExpectedGradSlice[],
): string[] {
  const hf = new Map(weightsToHuggingFace(config, grads));
  const report: string[] = [];
  for (const g of expected) {
    const ours = hf.get(g.name);
    expect(ours, g.name).toBeDefined();
    expect(ours?.shape).toEqual(g.shape);
    const cols = g.shape.slice(1).reduce((a, b) => a * b, 1);
    const part = (ours as NamedTensor).data.subarray(g.rows[0] * cols, g.rows[1] * cols);
    const rel = maxAbsDiff(part, g.data) / maxAbs(g.data);
    report.push(`${g.name} ${rel.toExponential(1)}`);
    expect(maxAbs(g.data), `${g.name} has a gradient`).toBeGreaterThan(0);
    expect(rel, g.name).toBeLessThan(1e-4);
  }
  return report;
}

/** The loss within 1e-5 relative and every recorded gradient slice within 1e-4 relative of transformers'. */
export function expectLossAndGradients(gpt: GPT, expected: CausalLMExpectedWithGrads, label: string): void {
  const { loss, grads } = gpt.gradients(expected.ids, expected.targets, expected.batchSize, expected.seqLen);
  expect(Math.abs(loss - expected.loss) / expected.loss).toBeLessThan(1e-5);
  const report = expectGradientSlices(gpt.config, grads, expected.grads);
  console.log(`${label}: max |grad diff| / max |HF grad|: ${report.join(', ')}`);
}

/** Greedy continuations (20 tokens) equal to transformers'. */
export function expectGreedyGenerations(gpt: GPT, expected: CausalLMExpected): void {
  for (const g of expected.generations) {
    const tokens = gpt.generate(g.prompt, { maxNewTokens: 20, temperature: 0 });
    expect(Array.from(tokens)).toEqual(g.tokens);
  }
}

/**
 * Saves `gpt` into `out` and requires every tensor bit-identical to `dir/model.safetensors`, and
 * the saved directory to load back to the same config.
 */
export async function expectBitIdenticalSave(gpt: GPT, dir: string, out: string): Promise<void> {
  await saveHuggingFace(gpt, out);
  const original = tensorBytes(await readFile(join(dir, 'model.safetensors')));
  const saved = tensorBytes(await readFile(join(out, 'model.safetensors')));
  expect([...saved.keys()].sort()).toEqual([...original.keys()].sort());
  for (const [k, t] of original) {
    const s = saved.get(k);
    expect(s?.shape, k).toEqual(t.shape);
    expect(s?.bytes.equals(t.bytes), `${k} is bit-identical`).toBe(true);
  }
  using again = await loadHuggingFace(out);
  expect(again.config).toEqual(gpt.config);
}

/**
 * `dir/hf_check.json` (make_hf_fixtures.py --check-ours): transformers loaded these exact files
 * (their SHA-256 still match) with logits within 1e-4 of ours, as `modelClass` when given.
 */
export async function expectCheckedByTransformers(dir: string, modelClass?: string): Promise<void> {
  const check = await readJson<{
    passed: boolean;
    modelClass?: string;
    maxAbsLogitDiff: number;
    loadingProblems: object;
    sha256: Record<string, string>;
  }>(join(dir, 'hf_check.json'));
  expect(check.passed).toBe(true);
  if (modelClass !== undefined) expect(check.modelClass).toBe(modelClass);
  expect(check.loadingProblems).toEqual({});
  expect(check.maxAbsLogitDiff).toBeLessThan(1e-4);
  for (const [file, hash] of Object.entries(check.sha256)) expect(sha256(await readFile(join(dir, file))), file).toBe(hash);
}

/**
 * `dir/ours.json` (export-ours.mjs): loading `dir` gives its config and recorded logits (1e-5),
 * and saving it again into `out` gives byte-identical `model.safetensors` and `config.json`.
 * `check` sees the loaded config for the caller's own assertions.
 */
export async function expectByteIdenticalReexport(dir: string, out: string, check?: (config: TransformerConfig) => void): Promise<void> {
  const ours = await readJson<{ config: TransformerConfigInput; batchSize: number; seqLen: number; ids: number[]; logits: number[] }>(
    join(dir, 'ours.json'),
  );
  using gpt = await loadHuggingFace(dir);
  expect(gpt.config).toMatchObject(ours.config);
  check?.(gpt.config);
  expect(maxAbsDiff(gpt.logits(ours.ids, ours.batchSize, ours.seqLen), ours.logits)).toBeLessThan(1e-5);
  await saveHuggingFace(gpt, out);
  for (const file of ['model.safetensors', 'config.json']) {
    expect(Buffer.compare(await readFile(join(out, file)), await readFile(join(dir, file))), file).toBe(0);
  }
}

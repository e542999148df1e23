// Helpers shared by the Hugging Face parity tests (GPT-2/Llama and BERT).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { readSafetensors } from '../../../dist/index.node.js';

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

/**
 * The fuzzing harness of the hostile-input tests: fast-check arbitraries that mutate valid
 * files (bytes, lines, JSON trees) and `expectTypedOutcome`, the property every parser of
 * untrusted input must hold — it returns, or throws one of the package's typed errors; it never
 * throws a TypeError / RangeError, never runs long, and never asks for a buffer its input's
 * size does not justify.
 *
 * CI runs a fixed seed and a few hundred cases per parser; `npm run fuzz` runs many more with a
 * fresh seed (WASMFORMER_FUZZ_RUNS, WASMFORMER_FUZZ_SEED override both).
 */
import fc from 'fast-check';
import { WasmformerError } from '../../src/errors.js';

/** Cases per parser: a few hundred in `npm test`, more with `npm run fuzz`. */
export const FUZZ_RUNS = Number(process.env.WASMFORMER_FUZZ_RUNS ?? 200);
/** The seed; fixed in CI so a failure repeats. */
export const FUZZ_SEED = Number(process.env.WASMFORMER_FUZZ_SEED ?? 20261207);
/** The longest one parse may take (a hang guard, far above any real parse of these sizes). */
export const MAX_CASE_MS = 5_000;

/** fast-check parameters shared by every fuzz property. */
export function fuzzParams(runs = FUZZ_RUNS): fc.Parameters<unknown> {
  return { numRuns: runs, seed: FUZZ_SEED, endOnFailure: true };
}

// ---------------------------------------------------------------------------------------------
// Allocation tracking: typed-array and ArrayBuffer constructors are wrapped in proxies that
// record the bytes asked for, so a parser that trusts a length from its input is caught
// before the allocation succeeds or fails.

const TRACKED = [
  'ArrayBuffer',
  'Uint8Array',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
] as const;
type Tracked = (typeof TRACKED)[number];
const BYTES_PER: Record<Tracked, number> = {
  ArrayBuffer: 1,
  Uint8Array: 1,
  Int8Array: 1,
  Uint16Array: 2,
  Int16Array: 2,
  Uint32Array: 4,
  Int32Array: 4,
  Float32Array: 4,
  Float64Array: 8,
};

/** The largest single allocation requested while `fn` ran (in bytes), and `fn`'s outcome. */
export function largestAllocation<T>(fn: () => T): { bytes: number; result: T } {
  const g = globalThis as unknown as Record<string, unknown>;
  const originals = new Map<Tracked, unknown>();
  let bytes = 0;
  for (const name of TRACKED) {
    const original = g[name] as new (...args: unknown[]) => object;
    originals.set(name, original);
    g[name] = new Proxy(original, {
      construct(target, args, newTarget) {
        const [first] = args as unknown[];
        if (typeof first === 'number') bytes = Math.max(bytes, first * BYTES_PER[name]);
        return Reflect.construct(target, args, newTarget === g[name] ? target : newTarget) as object;
      },
    });
  }
  try {
    const result = fn();
    return { bytes, result };
  } finally {
    for (const [name, original] of originals) g[name] = original;
  }
}

/** What one fuzz case did: returned, or threw a typed error (its class name). */
export type Outcome = 'ok' | string;

/**
 * Runs `parse(input)` and checks the contract: a typed error or a result; no untyped error;
 * at most {@link MAX_CASE_MS}; no allocation above `allowedBytes` (default: 64 × the input's
 * size + 1 MiB). Returns the outcome so tests can also check that valid inputs still parse.
 */
export function expectTypedOutcome(parse: () => unknown, inputBytes: number, allowedBytes = 64 * inputBytes + 2 ** 20): Outcome {
  const started = performance.now();
  let outcome: Outcome = 'ok';
  let largest = 0;
  try {
    const tracked = largestAllocation(() => {
      try {
        parse();
      } catch (error) {
        if (error instanceof WasmformerError) {
          outcome = error.name;
          return;
        }
        throw error;
      }
    });
    largest = tracked.bytes;
  } catch (error) {
    throw new Error(`untyped ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
  }
  const ms = performance.now() - started;
  if (ms > MAX_CASE_MS) throw new Error(`one parse took ${ms.toFixed(0)} ms (limit ${MAX_CASE_MS})`);
  if (largest > allowedBytes) throw new Error(`asked for ${largest} bytes from a ${inputBytes}-byte input (allowed ${allowedBytes})`);
  return outcome;
}

/**
 * {@link expectTypedOutcome} for async parsers (file loaders); the allocation check is skipped
 * across awaits. `base`: the package's error base class (the built package's, for tests of dist/).
 */
export async function expectTypedOutcomeAsync(
  parse: () => Promise<unknown>,
  base: abstract new (...args: never[]) => Error = WasmformerError,
): Promise<Outcome> {
  const started = performance.now();
  let outcome: Outcome = 'ok';
  try {
    await parse();
  } catch (error) {
    if (!(error instanceof base)) throw new Error(`untyped ${(error as Error)?.name}: ${(error as Error)?.message}`, { cause: error });
    outcome = error.name;
  }
  const ms = performance.now() - started;
  if (ms > MAX_CASE_MS) throw new Error(`one load took ${ms.toFixed(0)} ms (limit ${MAX_CASE_MS})`);
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// Mutations.

/** Values that break parsers that trust their input: wrong types, huge and odd numbers. */
const HOSTILE_VALUE = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 2 ** 31, 2 ** 32 + 1, 2 ** 53, 1e308, -1e308, '', 'x', [], {}, [[]], {
    length: 1e9,
  }),
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -5, max: 1 << 20 }),
);

type JsonOp = 'replace' | 'delete' | 'duplicate' | 'truncate' | 'wrap' | 'rename';

/** One structure-aware edit of a JSON tree: a path of child picks and an operation. */
export const jsonEdit = fc.record({
  path: fc.array(fc.nat(), { minLength: 0, maxLength: 6 }),
  op: fc.constantFrom<JsonOp>('replace', 'replace', 'delete', 'duplicate', 'truncate', 'wrap', 'rename'),
  value: HOSTILE_VALUE,
  key: fc.string({ maxLength: 6 }),
});
export type JsonEdit = typeof jsonEdit extends fc.Arbitrary<infer E> ? E : never;

/** Applies `edits` to a deep copy of `root`. */
export function mutateJson(root: unknown, edits: readonly JsonEdit[]): unknown {
  const copy = structuredClone(root);
  const holder: { v: unknown } = { v: copy };
  for (const edit of edits) applyEdit(holder, edit);
  return holder.v;
}

function applyEdit(holder: { v: unknown }, edit: JsonEdit): void {
  let parent: Record<string, unknown> | unknown[] = holder as unknown as Record<string, unknown>;
  let key: string | number = 'v';
  for (const pick of edit.path) {
    const node = (parent as Record<string, unknown>)[key as string];
    if (node === null || typeof node !== 'object') break;
    const keys = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    parent = node as Record<string, unknown>;
    key = keys[pick % keys.length] as string | number;
  }
  const target = parent as Record<string | number, unknown>;
  const node = target[key];
  switch (edit.op) {
    case 'replace':
      target[key] = structuredClone(edit.value);
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else if (parent !== (holder as unknown)) delete target[key];
      break;
    case 'duplicate':
      if (Array.isArray(node)) node.push(...structuredClone(node));
      else if (typeof node === 'string') target[key] = node.repeat(3);
      break;
    case 'truncate':
      if (Array.isArray(node)) node.length = Math.floor(node.length / 2);
      else if (typeof node === 'string') target[key] = node.slice(0, Math.floor(node.length / 2));
      break;
    case 'wrap':
      target[key] = [node];
      break;
    case 'rename':
      if (!Array.isArray(parent) && parent !== (holder as unknown)) {
        delete target[key];
        target[edit.key] = node;
      }
      break;
  }
}

/** A byte-level edit: flip, overwrite with a value, truncate, or insert random bytes. */
export const byteEdit = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  op: fc.constantFrom('flip', 'set', 'truncate', 'insert'),
  bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
});
export type ByteEdit = typeof byteEdit extends fc.Arbitrary<infer E> ? E : never;

/** Applies byte edits to a copy of `input`. */
export function mutateBytes(input: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let out = Uint8Array.from(input);
  for (const { at, op, bytes } of edits) {
    const i = Math.min(out.length, Math.floor(at * out.length));
    if (op === 'truncate') out = out.slice(0, i);
    else if (op === 'insert') {
      const next = new Uint8Array(out.length + bytes.length);
      next.set(out.subarray(0, i));
      next.set(bytes, i);
      next.set(out.subarray(i), i + bytes.length);
      out = next;
    } else if (i < out.length) {
      out[i] = op === 'flip' ? (out[i] as number) ^ (1 << ((bytes[0] as number) % 8)) : (bytes[0] as number);
    }
  }
  return out;
}

/** A line-level edit of a text file: delete, duplicate, replace with junk, or cut a line. */
export const lineEdit = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  op: fc.constantFrom('delete', 'duplicate', 'replace', 'cut'),
  text: fc.string({ maxLength: 12, unit: 'binary' }),
});
export type LineEdit = typeof lineEdit extends fc.Arbitrary<infer E> ? E : never;

/** Applies line edits to `text`. */
export function mutateLines(text: string, edits: readonly LineEdit[]): string {
  const lines = text.split('\n');
  for (const { at, op, text: junk } of edits) {
    const i = Math.min(lines.length - 1, Math.floor(at * lines.length));
    const line = lines[i] ?? '';
    if (op === 'delete') lines.splice(i, 1);
    else if (op === 'duplicate') lines.splice(i, 0, line);
    else if (op === 'replace') lines[i] = junk;
    else lines[i] = line.slice(0, Math.floor(line.length / 2));
  }
  return lines.join('\n');
}

/**
 * Validation of what a model is given, before any WebAssembly runs: dimensions, token ids,
 * targets, the arrays of a {@link ModelBatch}, and the `[B, T]` shape of token-array calls.
 * Each check throws a typed error naming the argument (ShapeError for a length,
 * InvalidArgumentError for a value) and returns the typed arrays the core takes.
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import type { ModelBatch } from '../train/batches.js';
import type { TransformerConfig } from './config.js';

/** What {@link checkBatch} reads: a {@link ModelBatch} of any array-likes. */
export interface BatchArrays {
  ids: ArrayLike<number>;
  targets?: ArrayLike<number> | undefined;
  typeIds?: ArrayLike<number> | undefined;
  attentionMask?: ArrayLike<number> | undefined;
  labels?: ArrayLike<number> | undefined;
  batchSize: number;
}

/** Arrays of a validated batch (empty = not given). */
export interface CheckedBatch {
  ids: Uint32Array;
  targets: Int32Array;
  typeIds: Uint32Array;
  attentionMask: Uint8Array;
  labels: Int32Array;
}

/** Checks `B, T` (integers >= 1; `T <= blockSize` with learned or sinusoidal positions). */
export function checkDims(config: TransformerConfig, batchSize: number, seqLen: number): void {
  for (const [name, v] of [
    ['batchSize', batchSize],
    ['seqLen', seqLen],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new InvalidArgumentError(`${name} must be an integer >= 1, got ${v}`);
  }
  const absolute = config.positional === 'learned' || config.positional === 'sinusoidal';
  if (absolute && seqLen > config.blockSize) {
    throw new InvalidArgumentError(
      `sequence length ${seqLen} exceeds blockSize ${config.blockSize} (positional '${config.positional}' has no positions beyond it)`,
    );
  }
}

/** Validates `ids: [count]` token ids in `[0, vocabSize)` into the Uint32Array the core takes. */
export function checkTokens(config: TransformerConfig, ids: ArrayLike<number>, count: number, what = 'ids'): Uint32Array {
  if (ids.length !== count) throw new ShapeError(`${what}: expected ${count} token ids, got ${ids.length}`, `${count}`, `${ids.length}`);
  const out = new Uint32Array(count);
  const v = config.vocabSize;
  for (let i = 0; i < count; i++) {
    const id = ids[i] as number;
    if (!Number.isInteger(id) || id < 0 || id >= v) {
      throw new InvalidArgumentError(`${what}[${i}] = ${id} is not a token id in [0, ${v})`);
    }
    out[i] = id;
  }
  return out;
}

/** Validates `targets: [count]` (token ids, `-100` = ignored) into an Int32Array. */
export function checkTargets(config: TransformerConfig, targets: ArrayLike<number>, count: number): Int32Array {
  if (targets.length !== count) throw new ShapeError(`targets: expected ${count}, got ${targets.length}`, `${count}`, `${targets.length}`);
  const out = new Int32Array(count);
  const v = config.vocabSize;
  for (let i = 0; i < count; i++) {
    const t = targets[i] as number;
    if (!Number.isInteger(t) || (t !== -100 && (t < 0 || t >= v))) {
      throw new InvalidArgumentError(`targets[${i}] = ${t} is not a token id in [0, ${v}) or -100 (ignored)`);
    }
    out[i] = t;
  }
  return out;
}

/**
 * `[B, T]` of a token-array call: one sequence `[T]` (`T = ids.length`) when neither
 * `batchSize` nor `seqLen` is given, else the batch `[batchSize, seqLen]`.
 * @throws InvalidArgumentError when only one of the two is given, for an empty sequence or a
 * bad dimension; ShapeError when `ids.length` is not `B·T`
 */
export function tokenShape(
  config: TransformerConfig,
  what: string,
  ids: ArrayLike<number>,
  batchSize: number | undefined,
  seqLen: number | undefined,
): [number, number] {
  if (ids === null || typeof ids !== 'object' || typeof ids.length !== 'number') {
    throw new InvalidArgumentError(`${what}: ids must be an array of token ids`);
  }
  if (batchSize === undefined && seqLen === undefined) {
    if (ids.length < 1) throw new InvalidArgumentError(`${what}: ids is empty; it needs at least one token`);
    checkDims(config, 1, ids.length);
    return [1, ids.length];
  }
  if (batchSize === undefined || seqLen === undefined) {
    throw new InvalidArgumentError(`${what}: give both batchSize and seqLen (a batch [B, T]) or neither (one sequence [T])`);
  }
  checkDims(config, batchSize, seqLen);
  const n = batchSize * seqLen;
  if (ids.length !== n) {
    throw new ShapeError(`${what}: expected B·T = ${batchSize}·${seqLen} = ${n} token ids, got ${ids.length}`, `${n}`, `${ids.length}`);
  }
  return [batchSize, seqLen];
}

/** T of a batch: `seqLen` if given, else `batch.seqLen`, else `ids.length / batchSize`. */
export function seqLenOf(what: string, batch: ModelBatch, seqLen: number | undefined): number {
  if (seqLen !== undefined) return seqLen;
  if (batch?.seqLen !== undefined) return batch.seqLen;
  const n = batch?.ids?.length;
  const b = batch?.batchSize;
  if (typeof n !== 'number' || !Number.isInteger(b) || b < 1) return NaN; // checkBatch names the problem
  if (n % b !== 0) {
    throw new ShapeError(`${what}: ${n} ids do not split into batchSize ${b} sequences of equal length`, `a multiple of ${b}`, `${n}`);
  }
  return n / b;
}

/**
 * Validates a batch of `batch.batchSize × seqLen` against the config (ids below `vocabSize`,
 * targets too or -100, segment ids below `typeVocabSize`, a 0/1 mask, labels in
 * `[0, nClasses)` or -100) and returns the arrays the core takes (empty = not given).
 * @throws ShapeError on a wrong length, InvalidArgumentError on a bad value
 */
export function checkBatch(config: TransformerConfig, batch: BatchArrays, seqLen: number): CheckedBatch {
  if (batch === null || typeof batch !== 'object' || batch.ids === null || typeof batch.ids !== 'object') {
    throw new InvalidArgumentError('batch must be an object with ids and batchSize (a ModelBatch)');
  }
  const b = batch.batchSize;
  checkDims(config, b, seqLen);
  const n = b * seqLen;
  const out: CheckedBatch = {
    ids: checkTokens(config, batch.ids, n),
    targets: batch.targets ? checkTargets(config, batch.targets, n) : new Int32Array(0),
    typeIds: new Uint32Array(0),
    attentionMask: new Uint8Array(0),
    labels: new Int32Array(0),
  };
  const { typeVocabSize, nClasses } = config;
  if (batch.typeIds) {
    if (typeVocabSize === 0) throw new InvalidArgumentError('typeIds given but the model has no segment embeddings (typeVocabSize 0)');
    out.typeIds = Uint32Array.from(
      checkInts(batch.typeIds, n, 'typeIds', (x) => x >= 0 && x < typeVocabSize, `a segment id in [0, ${typeVocabSize})`),
    );
  }
  if (batch.attentionMask) {
    out.attentionMask = Uint8Array.from(checkInts(batch.attentionMask, n, 'attentionMask', (x) => x === 0 || x === 1, '0 or 1'));
  }
  if (batch.labels) {
    if (nClasses === 0) throw new InvalidArgumentError('labels given but the model has no classifier (nClasses 0)');
    out.labels = checkInts(batch.labels, b, 'labels', (x) => x === -100 || (x >= 0 && x < nClasses), `a class in [0, ${nClasses}) or -100`);
  }
  if (batch.targets && config.lmHead === 'none')
    throw new InvalidArgumentError("targets given but the model has no LM head (lmHead 'none')");
  return out;
}

function checkInts(values: ArrayLike<number>, count: number, what: string, ok: (x: number) => boolean, expected: string): Int32Array {
  if (values.length !== count)
    throw new ShapeError(`${what}: expected ${count} values, got ${values.length}`, `${count}`, `${values.length}`);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const x = values[i] as number;
    if (!Number.isInteger(x) || !ok(x)) throw new InvalidArgumentError(`${what}[${i}] = ${x} is not ${expected}`);
    out[i] = x;
  }
  return out;
}

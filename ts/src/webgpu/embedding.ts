/**
 * Token (+ optional learned position) embedding on WebGPU (embedding.wgsl), forward and
 * backward: the math of the core's `embedding_forward` / `embedding_backward`
 * (crates/core/src/kernels/embedding.rs). The backward's scatter-add is a deterministic gather:
 * the host builds, from the ids it holds, the list of positions of each id (CSR), and each
 * `dwte` element sums its positions in increasing order, as the core's serial loop does.
 */
import { InvalidArgumentError, ShapeError } from '../errors.js';
import { checkArray, checkDim } from '../kernels/validate.js';
import type { Gpu } from './device.js';
import EMBEDDING_WGSL from './embedding.wgsl';
import { checkGpu, grid, runKernel, uniformWords } from './kernel.js';

/** Dimensions of {@link gpuEmbedding} and {@link gpuEmbeddingBackward}. */
export interface GpuEmbeddingOptions {
  /** The device to run on (from {@link requestGpu}). */
  gpu: Gpu;
  /** B: sequences. */
  batch: number;
  /** T: tokens per sequence. */
  seq: number;
  /** C: channels per token. */
  channels: number;
  /** V: rows of the token table. */
  vocab: number;
  /** Row of the position table used by t = 0 (e.g. when decoding with a cache); default 0. */
  positionOffset?: number;
}

/** Options of {@link gpuEmbeddingBackward}. */
export interface GpuEmbeddingBackwardOptions extends GpuEmbeddingOptions {
  /** P: rows of the position table; when given, `dwpe: [P, C]` is returned too. */
  maxPositions?: number;
}

/** Inputs of {@link gpuEmbeddingBackward}. */
export interface GpuEmbeddingBackwardInputs {
  /** `[B, T, C]` float32, the gradient of the forward's output. */
  dout: Float32Array;
  /** `[B, T]` int32, the forward's token ids. */
  ids: Int32Array;
}

/** Gradients from {@link gpuEmbeddingBackward}, each a new array (assigned, not accumulated). */
export interface GpuEmbeddingGradients {
  /** `[V, C]` float32. */
  dwte: Float32Array;
  /** `[P, C]` float32 (only with `maxPositions`). */
  dwpe?: Float32Array;
}

/** The host-built gather lists of the backward: the flat positions holding each id. */
export interface EmbeddingCsr {
  /** `[V + 1]` uint32: id v's positions are `positions[offsets[v] .. offsets[v + 1]]`. */
  offsets: Uint32Array;
  /** `[B·T]` uint32 flat positions, grouped by id, increasing within an id. */
  positions: Uint32Array;
}

const WG = 64; // invocations per workgroup (embedding.wgsl WG)

/**
 * `out[b, t, :] = wte[ids[b, t], :] (+ wpe[t + positionOffset, :])` on the GPU.
 *
 * @param ids - int32 `[B, T]`, each in `0..V`
 * @param wte - float32 `[V, C]`
 * @param wpe - float32 `[P, C]`, or undefined for none (`t + positionOffset` must be `< P`)
 * @returns float32 `[B, T, C]`
 * @throws ShapeError or InvalidArgumentError for bad arguments (an id or position out of range
 *   names its place), before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const x = await gpuEmbedding(ids, wte, wpe, { gpu, batch: 4, seq: 64, channels: 128, vocab: 65 });
 * ```
 */
export async function gpuEmbedding(
  ids: Int32Array,
  wte: Float32Array,
  wpe: Float32Array | undefined,
  options: GpuEmbeddingOptions,
): Promise<Float32Array> {
  const op = 'gpuEmbedding';
  const dims = checkDims(op, options);
  const { gpu, batch, seq, channels, vocab } = dims;
  checkArray(op, 'wte', wte, vocab * channels, `[V, C] = [${vocab}, ${channels}]`);
  let positions = 0;
  if (wpe !== undefined) {
    checkArray(op, 'wpe', wpe, wpe?.length ?? 0, '[P, C]');
    if (wpe.length % channels !== 0 || wpe.length === 0) {
      throw new ShapeError(
        `${op}: wpe must have P·C elements (C = ${channels}), got ${wpe.length}`,
        `P·${channels} elements`,
        `${wpe.length}`,
      );
    }
    positions = wpe.length / channels;
  }
  checkIds(op, ids, dims, wpe === undefined ? undefined : positions);
  const { out } = await runKernel(gpu, {
    op,
    inputs: { ids, wte, wpe: wpe ?? new Float32Array(1) },
    outputs: { out: batch * seq * channels },
    params: params(dims, positions),
    passes: [
      {
        label: 'embedding.forward',
        code: EMBEDDING_WGSL,
        entryPoint: 'forward',
        constants: { HAS_WPE: wpe === undefined ? 0 : 1 },
        bindings: [
          [0, 'params'],
          [1, 'ids'],
          [2, 'wte'],
          [3, 'wpe'],
          [4, 'out'],
        ],
        workgroups: grid(gpu, Math.ceil((batch * seq * channels) / WG)),
      },
    ],
  });
  return out!;
}

/**
 * Gradients of {@link gpuEmbedding}: `dwte[v, :] = Σ_{ids[p] = v} dout[p, :]` (positions in
 * increasing order), and with `maxPositions`, `dwpe[t + positionOffset, :] = Σ_b dout[b, t, :]`.
 *
 * @param inputs - `dout: [B, T, C]` float32, `ids: [B, T]` int32
 * @returns `dwte: [V, C]` and (with `maxPositions`) `dwpe: [P, C]`, float32
 * @throws ShapeError or InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const { dwte, dwpe } = await gpuEmbeddingBackward({ dout, ids }, { gpu, batch: 4, seq: 64, channels: 128, vocab: 65, maxPositions: 256 });
 * ```
 */
export async function gpuEmbeddingBackward(
  inputs: GpuEmbeddingBackwardInputs,
  options: GpuEmbeddingBackwardOptions,
): Promise<GpuEmbeddingGradients> {
  const op = 'gpuEmbeddingBackward';
  const dims = checkDims(op, options);
  const { gpu, batch, seq, channels, vocab } = dims;
  const { maxPositions } = options;
  if (maxPositions !== undefined) checkDim(op, 'maxPositions', maxPositions);
  const { dout, ids } = inputs ?? ({} as GpuEmbeddingBackwardInputs);
  checkArray(op, 'dout', dout, batch * seq * channels, `[B, T, C] = [${batch}, ${seq}, ${channels}]`);
  checkIds(op, ids, dims, maxPositions);
  const csr = embeddingCsr(ids, vocab);
  const positions = maxPositions ?? 0;
  const grads = await runKernel(gpu, {
    op,
    inputs: { dout, offsets: csr.offsets, positions: csr.positions },
    outputs: maxPositions === undefined ? { dwte: vocab * channels } : { dwte: vocab * channels, dwpe: positions * channels },
    params: params(dims, positions),
    passes: [
      {
        label: 'embedding.backward_wte',
        code: EMBEDDING_WGSL,
        entryPoint: 'backward_wte',
        bindings: [
          [0, 'params'],
          [5, 'dout'],
          [6, 'offsets'],
          [7, 'positions'],
          [8, 'dwte'],
        ],
        workgroups: grid(gpu, Math.ceil((vocab * channels) / WG)),
      },
      ...(maxPositions === undefined
        ? []
        : [
            {
              label: 'embedding.backward_wpe',
              code: EMBEDDING_WGSL,
              entryPoint: 'backward_wpe',
              bindings: [
                [0, 'params'],
                [5, 'dout'],
                [9, 'dwpe'],
              ] as const,
              workgroups: grid(gpu, Math.ceil((positions * channels) / WG)),
            },
          ]),
    ],
  });
  return maxPositions === undefined ? { dwte: grads.dwte! } : { dwte: grads.dwte!, dwpe: grads.dwpe! };
}

/**
 * The positions of each id, grouped by id and increasing within one (a counting sort).
 *
 * @param ids - int32 `[B·T]`, each in `0..vocab` (not checked here)
 * @returns `offsets: [V + 1]`, `positions: [B·T]`
 */
export function embeddingCsr(ids: Int32Array, vocab: number): EmbeddingCsr {
  const offsets = new Uint32Array(vocab + 1);
  for (const id of ids) offsets[id + 1]!++;
  for (let v = 0; v < vocab; v++) offsets[v + 1]! += offsets[v]!;
  const next = offsets.slice(0, vocab);
  const positions = new Uint32Array(ids.length);
  ids.forEach((id, p) => {
    positions[next[id]!++] = p;
  });
  return { offsets, positions };
}

/** The device and dimensions, checked, with the default offset. */
function checkDims(op: string, options: GpuEmbeddingOptions): Required<GpuEmbeddingOptions> {
  const { gpu, batch, seq, channels, vocab, positionOffset = 0 } = options ?? ({} as GpuEmbeddingOptions);
  checkGpu(op, gpu);
  checkDim(op, 'batch', batch);
  checkDim(op, 'seq', seq);
  checkDim(op, 'channels', channels);
  checkDim(op, 'vocab', vocab);
  if (!Number.isInteger(positionOffset) || positionOffset < 0 || positionOffset > 2 ** 31 - 1) {
    throw new InvalidArgumentError(`${op}: positionOffset must be a non-negative integer, got ${positionOffset}`);
  }
  return { gpu, batch, seq, channels, vocab, positionOffset };
}

/** `ids` is `[B, T]` int32 in `0..V`, and every position fits the table of `positions` rows. */
function checkIds(op: string, ids: Int32Array, dims: Required<GpuEmbeddingOptions>, positions: number | undefined): void {
  const { batch, seq, vocab, positionOffset } = dims;
  checkArray(op, 'ids', ids, batch * seq, `[B, T] = [${batch}, ${seq}]`, Int32Array);
  ids.forEach((id, p) => {
    if (id < 0 || id >= vocab) throw new InvalidArgumentError(`${op}: ids[${p}] = ${id} is outside 0..${vocab - 1}`);
  });
  if (positions !== undefined && positionOffset + seq > positions) {
    throw new InvalidArgumentError(
      `${op}: positions ${positionOffset}..${positionOffset + seq - 1} do not fit the ${positions} rows of the position table`,
    );
  }
}

/** B, T, C, V, P, offset. */
function params(dims: Required<GpuEmbeddingOptions>, positions: number): ArrayBuffer {
  const { batch, seq, channels, vocab, positionOffset } = dims;
  return uniformWords([
    ['u', batch],
    ['u', seq],
    ['u', channels],
    ['u', vocab],
    ['u', positions],
    ['u', positionOffset],
  ]);
}

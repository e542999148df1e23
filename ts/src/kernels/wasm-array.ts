/** Float32 arrays that live in WebAssembly memory, for kernels called again and again on the same operands. */
import { DisposedError, InvalidArgumentError, OutOfMemoryError, ShapeError, callWasm } from '../errors.js';
import type { F32Buffer } from '../wasm/gen/simd/wasmformer.js';
import { wasm, wasmMemory } from '../wasm/load.js';
import type { matmul } from './matmul.js';
import { describe } from './validate.js';

/** Most float32 elements one array can hold: WebAssembly addresses 4 GiB. */
const MAX_LENGTH = 2 ** 30;

/** The module-owned buffer behind each live array (kept out of the class's public shape). */
const BUFFERS = new WeakMap<WasmArray, F32Buffer>();

/**
 * A float32 array that lives in WebAssembly memory. {@link matmul} reads (or, as `out`,
 * writes) a `WasmArray` in place, so an operand that many calls share (a weight matrix, a benchmark's
 * inputs) is copied into the module once instead of on every call, like a TF.js tensor or an
 * ONNX Runtime IO binding. Plain `Float32Array`s are copied in for each call.
 *
 * Free it with {@link WasmArray.dispose} when done: WebAssembly memory never shrinks, and
 * garbage collection frees it only at some later time.
 *
 * @example
 * ```ts
 * import { WasmArray, init, matmul } from 'wasmformer';
 * await init();
 * const weight = WasmArray.from(new Float32Array(512 * 256).fill(0.01)); // [K, N], copied in once
 * const x = new Float32Array(4 * 512).fill(1);                          // [M, K], copied per call
 * const y = matmul(x, weight, { m: 4, k: 512, n: 256 });                // [M, N] Float32Array, ≈ 5.12
 * const out = WasmArray.zeros(4 * 256);
 * matmul(x, weight, { m: 4, k: 512, n: 256, out });                     // result left in `out`
 * console.log(out.toArray()[0]);                                        // ≈ 5.12
 * weight.dispose();
 * out.dispose();
 * ```
 */
export class WasmArray {
  /** Number of float32 elements. */
  readonly length: number;

  private constructor(buffer: F32Buffer, length: number) {
    this.length = length;
    BUFFERS.set(this, buffer);
  }

  /**
   * `length` zeros in WebAssembly memory.
   *
   * @throws InvalidArgumentError unless `length` is an integer ≥ 0
   * @throws OutOfMemoryError when the module cannot grow by `4 · length` bytes
   */
  static zeros(length: number): WasmArray {
    if (!Number.isInteger(length) || length < 0) {
      throw new InvalidArgumentError(`WasmArray: length must be an integer ≥ 0, got ${length}`);
    }
    if (length > MAX_LENGTH) {
      throw new OutOfMemoryError(`WasmArray: ${length} float32 elements need ${length * 4} bytes; WebAssembly addresses at most 4 GiB`);
    }
    return new WasmArray(
      callWasm(() => new (wasm().F32Buffer)(length)),
      length,
    );
  }

  /** A copy of `data` in WebAssembly memory. */
  static from(data: Float32Array): WasmArray {
    if (!(data instanceof Float32Array)) {
      throw new InvalidArgumentError(`WasmArray.from: data must be a Float32Array, got ${describe(data)}`);
    }
    const array = WasmArray.zeros(data.length);
    array.set(data);
    return array;
  }

  /** Whether {@link WasmArray.dispose} has been called. */
  get disposed(): boolean {
    return !BUFFERS.has(this);
  }

  /** The elements, copied out into a new `Float32Array`. */
  toArray(): Float32Array {
    // A new array filled by `set` (a memcpy): `slice()` of a view of WebAssembly memory took
    // 1.4–1.5× as long for a 6 MiB result here (Node 20).
    const copy = new Float32Array(this.length);
    copy.set(this.#view());
    return copy;
  }

  /**
   * Overwrites every element with `data`.
   *
   * @throws ShapeError unless `data.length === this.length`
   */
  set(data: Float32Array): void {
    if (!(data instanceof Float32Array)) {
      throw new InvalidArgumentError(`WasmArray.set: data must be a Float32Array, got ${describe(data)}`);
    }
    if (data.length !== this.length) {
      throw new ShapeError(
        `WasmArray.set: data must have ${this.length} elements, got ${data.length}`,
        `${this.length} elements`,
        `${data.length} elements`,
      );
    }
    this.#view().set(data);
  }

  /** Frees the WebAssembly memory. Idempotent; other methods throw {@link DisposedError} after it. */
  dispose(): void {
    BUFFERS.get(this)?.free();
    BUFFERS.delete(this);
  }

  /** A view of the elements; valid until the memory grows, so made anew for each use. */
  #view(): Float32Array {
    const buffer = bufferOf(this, 'WasmArray', 'this array');
    return new Float32Array(wasmMemory().buffer, buffer.ptr(), this.length);
  }
}

/**
 * The module-owned buffer of a live array, for the kernel functions.
 *
 * @throws DisposedError after `array.dispose()`
 */
export function bufferOf(array: WasmArray, op: string, name: string): F32Buffer {
  const buffer = BUFFERS.get(array);
  if (!buffer) throw new DisposedError(`${op}: ${name} is a WasmArray that was disposed`);
  return buffer;
}

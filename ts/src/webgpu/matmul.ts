/**
 * Matrix product on WebGPU (matmul.wgsl): the three storage forms of the wasm `matmul`, with
 * an optional bias. {@link gpuMatmul} is one call from `Float32Array`s to a `Float32Array`;
 * {@link GpuMatmul} keeps its operands on the GPU for repeated products (benchmarks).
 */
import { DisposedError, InvalidArgumentError, OutOfMemoryError, UnsupportedError } from '../errors.js';
import { checkArray, checkChoice, checkDim, describe } from '../kernels/validate.js';
import { Gpu, gpuDevice } from './device.js';
import MATMUL_WGSL from './matmul.wgsl';
import { cachedPipeline } from './pipeline.js';
import { readBuffer } from './readback.js';
import { withErrorScopes } from './scopes.js';

/**
 * How the operands are stored, as in the wasm `matmul`: `'ab'` a [M, K] · b [K, N]; `'abt'`
 * a [M, K] · bᵀ with b stored [N, K]; `'atb'` aᵀ · b with a stored [K, M], b [K, N].
 */
export type GpuMatmulForm = 'ab' | 'abt' | 'atb';

/** Dimensions of a {@link GpuMatmul}. */
export interface GpuMatmulShape {
  /** M: rows of the result. */
  m: number;
  /** K: the shared dimension. */
  k: number;
  /** N: columns of the result. */
  n: number;
  /** Storage of a and b, as in the wasm `matmul`; default `'ab'`. */
  form?: GpuMatmulForm;
  /** Whether a `[N]` bias is added to every row; default false. */
  bias?: boolean;
}

/** Options of {@link gpuMatmul}: the wasm `matmul`'s, plus the device. */
export interface GpuMatmulOptions {
  /** The device to run on (from {@link requestGpu}). */
  gpu: Gpu;
  /** M: rows of the result (and of `a`). */
  m: number;
  /** K: the shared dimension (columns of `a`, rows of `b`). */
  k: number;
  /** N: columns of the result (and of `b`). */
  n: number;
  /** Storage of a and b; default `'ab'`. */
  form?: GpuMatmulForm;
  /** `[N]` float32, added to every row of the result. */
  bias?: Float32Array;
}

const FORMS: readonly GpuMatmulForm[] = ['ab', 'abt', 'atb'];
const FORM_CODE: Record<GpuMatmulForm, number> = { ab: 0, abt: 1, atb: 2 };
const TILE = 64; // out tile per workgroup, both sides (matmul.wgsl TILE_M, TILE_N)

/**
 * Matrix product `out = op(a) · op(b) (+ bias)` on the GPU, as the wasm `matmul` computes it.
 * Every argument is checked before any GPU work.
 *
 * @param a - float32, `[M, K]` (`'atb'`: `[K, M]`)
 * @param b - float32, `[K, N]` (`'abt'`: `[N, K]`)
 * @returns `[M, N]` float32, a new `Float32Array`
 * @throws ShapeError or InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError when an operand exceeds the adapter's storage binding size
 * @throws GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * using gpu = await requestGpu();
 * const c = await gpuMatmul(new Float32Array([1, 2, 3, 4]), new Float32Array([5, 6, 7, 8]), { gpu, m: 2, k: 2, n: 2 });
 * // c = [19, 22, 43, 50]
 * ```
 */
export async function gpuMatmul(a: Float32Array, b: Float32Array, options: GpuMatmulOptions): Promise<Float32Array> {
  const { gpu, m, k, n, form = 'ab', bias } = options ?? ({} as GpuMatmulOptions);
  checkGpu('gpuMatmul', gpu);
  checkShape('gpuMatmul', { m, k, n, form });
  checkArray('gpuMatmul', 'a', a, m * k, form === 'atb' ? `[K, M] = [${k}, ${m}]` : `[M, K] = [${m}, ${k}]`);
  checkArray('gpuMatmul', 'b', b, k * n, form === 'abt' ? `[N, K] = [${n}, ${k}]` : `[K, N] = [${k}, ${n}]`);
  if (bias !== undefined) checkArray('gpuMatmul', 'bias', bias, n, `[N] = [${n}]`);
  const plan = await GpuMatmul.create(gpu, { m, k, n, form, bias: bias !== undefined });
  try {
    plan.write(bias ? { a, b, bias } : { a, b });
    plan.run();
    return await plan.read();
  } finally {
    plan.dispose();
  }
}

/**
 * A matrix product planned on the GPU: its operand, bias and result buffers, made once, and the
 * compiled pipeline (cached per device, form and bias). `write` uploads operands, `run`
 * submits products, `read` reads the result back.
 */
export class GpuMatmul {
  /** The dimensions. */
  readonly shape: Required<GpuMatmulShape>;
  readonly #gpu: Gpu;
  readonly #buffers: GPUBuffer[];
  readonly #pipeline: GPUComputePipeline;
  readonly #bindGroup: GPUBindGroup;
  readonly #a: GPUBuffer;
  readonly #b: GPUBuffer;
  readonly #bias: GPUBuffer;
  readonly #out: GPUBuffer;
  #disposed = false;

  private constructor(gpu: Gpu, shape: Required<GpuMatmulShape>, pipeline: GPUComputePipeline, buffers: GPUBuffer[]) {
    this.#gpu = gpu;
    this.shape = shape;
    this.#pipeline = pipeline;
    this.#buffers = buffers;
    const [out, a, b, bias] = buffers as [GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer];
    [this.#out, this.#a, this.#b, this.#bias] = [out, a, b, bias];
    this.#bindGroup = gpuDevice(gpu).createBindGroup({
      label: 'matmul',
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  /**
   * Plans a product of the given shape on `gpu`: compiles (or reuses) the pipeline and makes
   * the buffers.
   * @throws InvalidArgumentError for bad dimensions; OutOfMemoryError when a buffer exceeds
   *   the adapter's storage binding size or cannot be allocated; GpuError from the device
   */
  static async create(gpu: Gpu, shape: GpuMatmulShape): Promise<GpuMatmul> {
    checkGpu('GpuMatmul.create', gpu);
    const full: Required<GpuMatmulShape> = { form: 'ab', bias: false, ...shape };
    const { m, k, n, form, bias } = full;
    checkShape('GpuMatmul.create', full);
    checkMatmulLimits('GpuMatmul.create', gpu, m, k, n);
    const pipeline = await cachedPipeline(gpu, `matmul/${form}/${bias}`, {
      label: 'matmul',
      code: MATMUL_WGSL,
      constants: { FORM: FORM_CODE[form], HAS_BIAS: bias ? 1 : 0 },
    });
    const device = gpuDevice(gpu);
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const buffers = await withErrorScopes(gpu, 'GpuMatmul.create: buffers', () => {
      const made: GPUBuffer[] = [];
      const make = (label: string, size: number, usage: number) => {
        const buffer = device.createBuffer({ label: `matmul.${label}`, size, usage });
        made.push(buffer);
        return buffer;
      };
      make('out', 4 * m * n, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
      make('a', 4 * m * k, storage);
      make('b', 4 * k * n, storage);
      make('bias', bias ? 4 * n : 4, storage);
      const dims = make('dims', 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      device.queue.writeBuffer(dims, 0, new Uint32Array([m, k, n, 0]));
      return made;
    });
    return new GpuMatmul(gpu, full, pipeline, buffers);
  }

  /**
   * Uploads the operands (each optional, so one can stay while another changes).
   * @param operands - `a`: `[M, K]` (`'atb'`: `[K, M]`); `b`: `[K, N]` (`'abt'`: `[N, K]`);
   *   `bias`: `[N]` (only for a plan made with `bias: true`); all float32
   */
  write(operands: { a?: Float32Array; b?: Float32Array; bias?: Float32Array }): void {
    this.#check('GpuMatmul.write');
    const { m, k, n, form, bias } = this.shape;
    const { queue } = gpuDevice(this.#gpu);
    if (operands.a !== undefined) {
      checkArray('GpuMatmul.write', 'a', operands.a, m * k, form === 'atb' ? `[K, M] = [${k}, ${m}]` : `[M, K] = [${m}, ${k}]`);
      writeF32(queue, this.#a, operands.a);
    }
    if (operands.b !== undefined) {
      checkArray('GpuMatmul.write', 'b', operands.b, k * n, form === 'abt' ? `[N, K] = [${n}, ${k}]` : `[K, N] = [${k}, ${n}]`);
      writeF32(queue, this.#b, operands.b);
    }
    if (operands.bias !== undefined) {
      if (!bias) throw new InvalidArgumentError('GpuMatmul.write: this product was planned without a bias (create it with bias: true)');
      checkArray('GpuMatmul.write', 'bias', operands.bias, n, `[N] = [${n}]`);
      writeF32(queue, this.#bias, operands.bias);
    }
  }

  /** Submits the product (one dispatch in one command buffer); it runs asynchronously on the GPU. */
  run(): void {
    this.#check('GpuMatmul.run');
    const device = gpuDevice(this.#gpu);
    const encoder = device.createCommandEncoder({ label: 'matmul' });
    const pass = encoder.beginComputePass({ label: 'matmul' });
    pass.setPipeline(this.#pipeline);
    pass.setBindGroup(0, this.#bindGroup);
    pass.dispatchWorkgroups(Math.ceil(this.shape.n / TILE), Math.ceil(this.shape.m / TILE));
    pass.end();
    device.queue.submit([encoder.finish()]);
  }

  /**
   * Reads the result of the products submitted so far.
   * @returns `[M, N]` float32, a new `Float32Array`
   */
  async read(): Promise<Float32Array> {
    this.#check('GpuMatmul.read');
    return readBuffer(this.#gpu, this.#out, 'GpuMatmul.read');
  }

  /** Frees the buffers (idempotent; the cached pipeline stays with the device). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const buffer of this.#buffers) buffer.destroy();
  }

  /** Same as {@link GpuMatmul.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  #check(op: string): void {
    if (this.#disposed) throw new DisposedError(`${op}: the GpuMatmul was disposed`);
    this.#gpu.check(op);
  }
}

/** `gpu` is a live {@link Gpu}. */
function checkGpu(op: string, gpu: unknown): asserts gpu is Gpu {
  if (!(gpu instanceof Gpu)) throw new InvalidArgumentError(`${op}: options.gpu must be a Gpu (from requestGpu()), got ${describe(gpu)}`);
  gpu.check(op);
}

/** Dimensions and form. */
function checkShape(op: string, shape: { m: number; k: number; n: number; form: GpuMatmulForm }): void {
  const { m, k, n, form } = shape;
  checkDim(op, 'm', m);
  checkDim(op, 'k', k);
  checkDim(op, 'n', n);
  checkChoice(op, 'form', form, FORMS);
}

/**
 * Whether the adapter can hold and dispatch a `[M, K] · [K, N]` product.
 * @throws OutOfMemoryError naming the operand whose bytes exceed `maxStorageBufferBindingSize`
 * @throws UnsupportedError when M or N needs more workgroups than one dispatch allows
 */
function checkMatmulLimits(op: string, gpu: Gpu, m: number, k: number, n: number): void {
  const { maxStorageBufferBindingSize: maxBytes, maxComputeWorkgroupsPerDimension: maxGroups } = gpu.adapter.limits;
  for (const [name, elements] of [
    ['a', m * k],
    ['b', k * n],
    ['out', m * n],
  ] as const) {
    if (4 * elements > maxBytes) {
      throw new OutOfMemoryError(
        `${op}: ${name} needs ${4 * elements} bytes, more than this adapter's maxStorageBufferBindingSize (${maxBytes})`,
      );
    }
  }
  for (const [name, size] of [
    ['m', m],
    ['n', n],
  ] as const) {
    if (Math.ceil(size / TILE) > maxGroups) {
      throw new UnsupportedError(
        `${op}: ${name} = ${size} needs ${Math.ceil(size / TILE)} workgroups, more than this adapter's ${maxGroups}`,
      );
    }
  }
}

/** Uploads a Float32Array (on any kind of ArrayBuffer) to the start of `buffer`. */
function writeF32(queue: GPUQueue, buffer: GPUBuffer, array: Float32Array): void {
  queue.writeBuffer(buffer, 0, array.buffer, array.byteOffset, array.byteLength);
}

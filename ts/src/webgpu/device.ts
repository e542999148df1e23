/**
 * The WebGPU device: acquiring an adapter and a device in Node (the npm package `webgpu`,
 * Dawn's bindings) or in a browser (`navigator.gpu`), what the adapter is and what it allows,
 * and the device's loss as a typed error.
 */
import { DeviceLostError, DisposedError, UnsupportedError } from '../errors.js';
import { loadNodeGpu } from './node.js';

/** The limits of an adapter that decide what the kernels can do (bytes, invocations, workgroups). */
export interface GpuLimits {
  /** Largest buffer, bytes. */
  maxBufferSize: number;
  /** Largest storage-buffer binding, bytes: the largest tensor one kernel can read or write. */
  maxStorageBufferBindingSize: number;
  /** Storage buffers one shader stage may bind. */
  maxStorageBuffersPerShaderStage: number;
  /** Workgroup-shared memory, bytes. */
  maxComputeWorkgroupStorageSize: number;
  /** Invocations in one workgroup. */
  maxComputeInvocationsPerWorkgroup: number;
  /** Workgroups along one dimension of a dispatch. */
  maxComputeWorkgroupsPerDimension: number;
}

/** What the adapter is: WebGPU's `GPUAdapterInfo` fields, its key limits and its features. */
export interface GpuAdapterDescription {
  /** The vendor, e.g. `"mesa"`, `"google"`, `"nvidia"` (may be empty where the browser hides it). */
  vendor: string;
  /** The architecture, e.g. `"llvmpipe"`, `"swiftshader"`, `"ampere"`. */
  architecture: string;
  /** The device, where reported. */
  device: string;
  /** A human-readable description, e.g. `"llvmpipe (LLVM 19.1.7, 256 bits): Mesa 25.0.7"`. */
  description: string;
  /** Whether the adapter says it is a software (CPU) implementation, where it says. */
  isFallbackAdapter: boolean;
  /** The limits the device was created with (the adapter's own, for the keys listed). */
  limits: GpuLimits;
  /** The adapter's optional features (`shader-f16`, `timestamp-query`, …), sorted. */
  features: string[];
}

/** Options of {@link requestGpu}. */
export interface RequestGpuOptions {
  /** WebGPU's power preference for the adapter; default none. */
  powerPreference?: 'low-power' | 'high-performance';
}

const LIMIT_KEYS: readonly (keyof GpuLimits)[] = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
];

/**
 * A WebGPU device with its adapter's description. Get one with {@link requestGpu}; free it with
 * {@link Gpu.dispose} (it destroys the device and everything in its buffers).
 *
 * If the device is lost, {@link Gpu.lost} resolves and every later use throws
 * `DeviceLostError`; there is no silent re-creation.
 */
export class Gpu {
  /** The adapter the device came from. */
  readonly adapter: GpuAdapterDescription;
  /** Resolves with the error once the device is lost (never, while it lives). */
  readonly lost: Promise<DeviceLostError>;
  /** Per-device caches of the kernels (compiled pipelines), keyed by the kernel's name and its overrides. @internal */
  readonly cache = new Map<string, unknown>();
  readonly #device: GPUDevice;
  #lostError: DeviceLostError | undefined;
  #disposed = false;

  /**
   * @internal Use {@link requestGpu}.
   * @param device - a `GPUDevice`
   */
  constructor(device: unknown, adapter: GpuAdapterDescription) {
    this.#device = device as GPUDevice;
    this.adapter = adapter;
    this.lost = this.#device.lost.then((info) => {
      const error = new DeviceLostError(
        `the WebGPU device (${adapter.description || adapter.architecture || 'unknown adapter'}) was lost: ${info.reason}${info.message ? `: ${info.message}` : ''}`,
        info.reason,
      );
      this.#lostError = error;
      return error;
    });
  }

  /**
   * The WebGPU `GPUDevice`, for code that shares it (TF.js's WebGPU backend in the benchmark,
   * tests). Typed `unknown` so that wasmformer's types do not need `@webgpu/types`: cast it to
   * `GPUDevice`.
   */
  get device(): unknown {
    return this.#device;
  }

  /**
   * Throws if the device can no longer be used.
   * @param op - the operation, for the error message
   * @throws DisposedError after {@link Gpu.dispose}
   * @throws DeviceLostError after the device was lost
   */
  check(op: string): void {
    if (this.#disposed) throw new DisposedError(`${op}: the Gpu was disposed`);
    if (this.#lostError) throw this.#lostError;
  }

  /** Resolves when all the work submitted so far has finished on the GPU. */
  async done(): Promise<void> {
    this.check('Gpu.done');
    await this.#device.queue.onSubmittedWorkDone();
  }

  /** Whether {@link Gpu.dispose} has been called. */
  get disposed(): boolean {
    return this.#disposed;
  }

  /** Destroys the device (idempotent); its buffers are freed. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.cache.clear();
    this.#device.destroy();
  }

  /** Same as {@link Gpu.dispose}, for `using`. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Acquires a WebGPU adapter and device: `navigator.gpu` in a browser (or any runtime that
 * has it), else in Node the npm package `webgpu` (Dawn's bindings, an optional peer
 * dependency), whose globals (`GPUBufferUsage`, …) are installed on `globalThis` when missing.
 *
 * The device is created with the adapter's own storage and buffer size limits (the defaults
 * are lower), so the largest tensors the adapter allows can be bound.
 *
 * @throws UnsupportedError naming what is missing: no `navigator.gpu` and no `webgpu`
 *   package, no adapter, or a device request that failed
 *
 * @example
 * ```ts
 * using gpu = await requestGpu();
 * console.log(gpu.adapter.description); // "llvmpipe (LLVM 19.1.7, 256 bits)"
 * ```
 */
export async function requestGpu(options: RequestGpuOptions = {}): Promise<Gpu> {
  const gpu = await navigatorGpu();
  const adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : undefined);
  if (!adapter) {
    throw new UnsupportedError(
      'WebGPU: requestAdapter() returned no adapter (no GPU, or no driver WebGPU accepts; on Linux without a GPU, Mesa ≥ 23 gives lavapipe: see scripts/setup-toolchain.sh --webgpu)',
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const key of ['maxBufferSize', 'maxStorageBufferBindingSize'] as const) requiredLimits[key] = adapter.limits[key];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, label: 'wasmformer' });
  } catch (error) {
    throw new UnsupportedError(`WebGPU: requestDevice() failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return new Gpu(device, describeAdapter(adapter, device));
}

/** `navigator.gpu` where it exists, else Dawn's from the `webgpu` package (Node). */
async function navigatorGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
  if (!isNode)
    throw new UnsupportedError('WebGPU: this runtime has no navigator.gpu (in Chromium it needs a secure origin: https or localhost)');
  return loadNodeGpu();
}

function describeAdapter(adapter: GPUAdapter, device: GPUDevice): GpuAdapterDescription {
  const info = adapter.info;
  const limits = {} as GpuLimits;
  for (const key of LIMIT_KEYS) limits[key] = device.limits[key];
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    limits,
    features: [...adapter.features].sort(),
  };
}

/**
 * The `GPUDevice` of a {@link Gpu}, typed, for the kernels of this package.
 * @internal
 */
export function gpuDevice(gpu: Gpu): GPUDevice {
  return gpu.device as GPUDevice;
}

/**
 * WebGPU error scopes as typed errors: a block of GPU calls runs inside `validation`,
 * `out-of-memory` and `internal` scopes, and the first error any of them caught is thrown as a
 * `GpuError` (or `OutOfMemoryError`) naming the operation.
 */
import { GpuError, OutOfMemoryError, type WasmformerError } from '../errors.js';
import { type Gpu, gpuDevice } from './device.js';

const FILTERS: readonly GPUErrorFilter[] = ['internal', 'out-of-memory', 'validation'];

/**
 * Runs `body` inside error scopes on the device of `gpu` and throws what they caught.
 *
 * `body` may be async; the scopes are popped after it settles, whether or not it threw (an
 * exception from `body` itself wins over a scope's error).
 *
 * @param gpu - the device whose calls `body` makes
 * @param what - the operation, for the error message (`"matmul: upload"`)
 * @throws GpuError with kind `'validation'` or `'internal'` and WebGPU's message
 * @throws OutOfMemoryError when an allocation failed
 */
export async function withErrorScopes<T>(gpu: Gpu, what: string, body: () => T | Promise<T>): Promise<T> {
  const device = gpuDevice(gpu);
  for (const filter of FILTERS) device.pushErrorScope(filter);
  let result: T;
  try {
    result = await body();
  } catch (error) {
    await popScopes(device, what);
    throw error;
  }
  const caught = await popScopes(device, what);
  if (caught) throw caught;
  return result;
}

/** Pops the three scopes (innermost first) and returns the first error as a typed one. */
async function popScopes(device: GPUDevice, what: string): Promise<WasmformerError | undefined> {
  let first: WasmformerError | undefined;
  for (let i = FILTERS.length - 1; i >= 0; i--) {
    const error = await device.popErrorScope();
    if (error && !first) first = typedGpuError(error, what);
  }
  return first;
}

/** A `GPUError` as its typed class. */
function typedGpuError(error: GPUError, what: string): WasmformerError {
  if (isA(error, 'GPUOutOfMemoryError')) {
    return new OutOfMemoryError(`${what}: the GPU ran out of memory: ${error.message}`);
  }
  const internal = isA(error, 'GPUInternalError');
  return new GpuError(`${what}: WebGPU reported a${internal ? 'n internal' : ' validation'} error`, internal ? 'internal' : 'validation', [
    error.message,
  ]);
}

/** `error instanceof globalThis[name]`, false where the runtime has no such class. */
function isA(error: GPUError, name: 'GPUOutOfMemoryError' | 'GPUInternalError'): boolean {
  const Class = (globalThis as Record<string, unknown>)[name];
  return (typeof Class === 'function' && error instanceof Class) || error.constructor?.name === name;
}

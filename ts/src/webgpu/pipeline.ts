/**
 * Compute pipelines from WGSL, with the compiler's messages in the error when a shader does not
 * compile or a pipeline does not validate.
 */
import { GpuError } from '../errors.js';
import { type Gpu, gpuDevice } from './device.js';

/** A WGSL compute shader and how to specialise it. */
export interface GpuPipelineOptions {
  /** The kernel's name, for labels and error messages (`"matmul"`). */
  label: string;
  /** WGSL source. */
  code: string;
  /** The entry point; default `"main"`. */
  entryPoint?: string;
  /** Values of the shader's `override` constants. */
  constants?: Record<string, number>;
}

/**
 * Compiles `options.code` and makes a compute pipeline with an automatic layout
 * (`createComputePipelineAsync`, inside a validation scope).
 *
 * @throws GpuError with kind `'shader'` whose `messages` are `getCompilationInfo()`'s errors
 *   (`line:column: text`) and the pipeline's validation message; the error names the kernel and
 *   its overrides
 * @throws DisposedError or DeviceLostError when `gpu` can no longer be used
 */
export async function createGpuPipeline(gpu: Gpu, options: GpuPipelineOptions): Promise<GPUComputePipeline> {
  const { label, code, entryPoint = 'main', constants = {} } = options;
  gpu.check(label);
  const device = gpuDevice(gpu);
  const what = `${label}${Object.keys(constants).length > 0 ? ` (${JSON.stringify(constants)})` : ''}`;
  const messages: string[] = [];
  let module: GPUShaderModule | undefined;
  let pipeline: GPUComputePipeline | undefined;
  device.pushErrorScope('validation');
  try {
    module = device.createShaderModule({ label, code });
    const info = await module.getCompilationInfo();
    for (const m of info.messages) {
      if (m.type === 'error') messages.push(`${m.lineNum}:${m.linePos}: ${m.message}`);
    }
    if (messages.length === 0) {
      pipeline = await device.createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint, constants } });
    }
  } catch (error) {
    // createComputePipelineAsync rejects with a GPUPipelineError (reason 'validation' or 'internal').
    const reason = (error as { reason?: string }).reason;
    messages.push(error instanceof Error ? error.message : String(error));
    const scoped = await device.popErrorScope();
    if (scoped && !messages.includes(scoped.message)) messages.push(scoped.message);
    throw new GpuError(
      `${what}: the pipeline failed${reason ? ` (${reason})` : ''}`,
      reason === 'internal' ? 'internal' : 'shader',
      messages,
    );
  }
  const scoped = await device.popErrorScope();
  if (scoped && !messages.includes(scoped.message)) messages.push(scoped.message);
  if (messages.length > 0 || !pipeline) throw new GpuError(`${what}: the shader failed to compile`, 'shader', messages);
  return pipeline;
}

/**
 * Checks that WGSL compiles into a compute pipeline on `gpu` (the pipeline is made, then
 * dropped, as the kernels make theirs), for tools and tests.
 * @throws GpuError with kind `'shader'`: `messages` holds `getCompilationInfo()`'s errors
 *   (`line:column: text`) and the pipeline's validation message; the error names the shader's
 *   label and its overrides
 * @throws DisposedError or DeviceLostError when `gpu` can no longer be used
 */
export async function compileGpuShader(gpu: Gpu, options: GpuPipelineOptions): Promise<void> {
  await createGpuPipeline(gpu, options);
}

/** The cached pipeline for `key` on `gpu`, made by {@link createGpuPipeline} on first use. */
export function cachedPipeline(gpu: Gpu, key: string, options: GpuPipelineOptions): Promise<GPUComputePipeline> {
  let pipeline = gpu.cache.get(key) as Promise<GPUComputePipeline> | undefined;
  if (!pipeline) {
    pipeline = createGpuPipeline(gpu, options);
    gpu.cache.set(key, pipeline);
    pipeline.catch(() => gpu.cache.delete(key));
  }
  return pipeline;
}

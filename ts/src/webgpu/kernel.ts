/**
 * One-shot kernel runs for the `gpu<Op>` functions (norm, activation, cross-entropy, embedding,
 * AdamW): upload the inputs, run a fixed list of compute passes in one command buffer, read the
 * outputs back. Each op file describes its buffers and passes; this file owns the buffers,
 * the adapter's limits, the error scopes and the readback, as `GpuMatmul` does for matmul.
 */
import { InvalidArgumentError, OutOfMemoryError, UnsupportedError } from '../errors.js';
import { describe } from '../kernels/validate.js';
import { Gpu, gpuDevice } from './device.js';
import { cachedPipeline } from './pipeline.js';
import { readBuffer } from './readback.js';
import { withErrorScopes } from './scopes.js';

/** One compute pass: a pipeline, the named buffers at its bindings, and its dispatch size. */
export interface KernelPass {
  /** The pass's name in labels and errors (`"layernorm.forward"`). */
  label: string;
  /** WGSL source. */
  code: string;
  /** Entry point; default `"main"`. */
  entryPoint?: string;
  /** Values of the shader's `override` constants. */
  constants?: Record<string, number>;
  /** `[binding, buffer name]` for every resource the entry point uses (group 0). */
  bindings: readonly (readonly [number, string])[];
  /** Workgroups along x (and y). */
  workgroups: readonly [number] | readonly [number, number];
}

/** What {@link runKernel} uploads, runs and reads. */
export interface KernelRun {
  /** The op, for errors (`"gpuLayerNorm"`). */
  op: string;
  /** Storage buffers uploaded before the passes (any of these typed arrays; empty arrays get 4 bytes). */
  inputs: Readonly<Record<string, Float32Array | Int32Array | Uint32Array>>;
  /** Inputs that the passes update in place and that are read back with the outputs. */
  readInputs?: readonly string[];
  /** Storage buffers the passes write, as element counts of 4 bytes (f32). */
  outputs: Readonly<Record<string, number>>;
  /** Scratch storage buffers (element counts), neither uploaded nor read. */
  scratch?: Readonly<Record<string, number>>;
  /** The uniform buffer `params` (a multiple of 16 bytes), if the shaders have one. */
  params?: ArrayBuffer;
  /** The passes, run in order in one compute pass each, one command buffer in all. */
  passes: readonly KernelPass[];
}

/**
 * Runs `run` on `gpu` and returns its outputs, each a new `Float32Array`.
 * @throws OutOfMemoryError when a buffer exceeds the adapter's `maxStorageBufferBindingSize`
 *   or cannot be allocated; UnsupportedError when a pass needs more workgroups than one
 *   dispatch allows (both before any GPU work)
 * @throws GpuError (kind `'shader'`, `'validation'` or `'internal'`), DeviceLostError or
 *   DisposedError from the device
 */
export async function runKernel(gpu: Gpu, run: KernelRun): Promise<Record<string, Float32Array>> {
  const { op, inputs, outputs, readInputs = [], scratch = {}, params, passes } = run;
  const { maxStorageBufferBindingSize: maxBytes, maxComputeWorkgroupsPerDimension: maxGroups } = gpu.adapter.limits;
  const names = [...Object.keys(inputs), ...Object.keys(outputs), ...Object.keys(scratch), ...(params ? ['params'] : [])];
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new InvalidArgumentError(`${op}: two of the run's buffers are named ${repeated}`);
  const sizes: [string, number][] = [
    ...Object.entries(inputs).map(([name, array]): [string, number] => [name, array.byteLength]),
    ...Object.entries({ ...outputs, ...scratch }).map(([name, count]): [string, number] => [name, 4 * count]),
  ];
  for (const [name, bytes] of sizes) {
    if (bytes > maxBytes) {
      throw new OutOfMemoryError(`${op}: ${name} needs ${bytes} bytes, more than this adapter's maxStorageBufferBindingSize (${maxBytes})`);
    }
  }
  for (const pass of passes) {
    for (const groups of pass.workgroups) {
      if (groups > maxGroups) {
        throw new UnsupportedError(`${op}: ${pass.label} needs ${groups} workgroups along one side, more than this adapter's ${maxGroups}`);
      }
    }
  }
  const pipelines = await Promise.all(
    passes.map((pass) =>
      cachedPipeline(gpu, `${pass.label}/${pass.entryPoint ?? 'main'}/${JSON.stringify(pass.constants ?? {})}`, {
        label: pass.label,
        code: pass.code,
        entryPoint: pass.entryPoint ?? 'main',
        constants: pass.constants ?? {},
      }),
    ),
  );
  const device = gpuDevice(gpu);
  const buffers = new Map<string, GPUBuffer>();
  try {
    await withErrorScopes(gpu, `${op}: run`, () => {
      const make = (name: string, bytes: number, usage: number): GPUBuffer => {
        const buffer = device.createBuffer({ label: `${op}.${name}`, size: Math.max(4, Math.ceil(bytes / 4) * 4), usage });
        buffers.set(name, buffer);
        return buffer;
      };
      for (const [name, array] of Object.entries(inputs)) {
        const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | (readInputs.includes(name) ? GPUBufferUsage.COPY_SRC : 0);
        const buffer = make(name, array.byteLength, usage);
        if (array.byteLength > 0) device.queue.writeBuffer(buffer, 0, array.buffer, array.byteOffset, array.byteLength);
      }
      for (const [name, count] of Object.entries(outputs)) make(name, 4 * count, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
      for (const [name, count] of Object.entries(scratch)) make(name, 4 * count, GPUBufferUsage.STORAGE);
      if (params !== undefined) {
        const buffer = make('params', params.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
        device.queue.writeBuffer(buffer, 0, params);
      }
      const encoder = device.createCommandEncoder({ label: op });
      passes.forEach((pass, i) => {
        const pipeline = pipelines[i]!;
        const entries = pass.bindings.map(([binding, name]) => {
          const buffer = buffers.get(name);
          if (!buffer) throw new InvalidArgumentError(`${op}: ${pass.label} binds ${name}, which is not one of the run's buffers`);
          return { binding, resource: { buffer } };
        });
        const bindGroup = device.createBindGroup({ label: pass.label, layout: pipeline.getBindGroupLayout(0), entries });
        const compute = encoder.beginComputePass({ label: pass.label });
        compute.setPipeline(pipeline);
        compute.setBindGroup(0, bindGroup);
        compute.dispatchWorkgroups(pass.workgroups[0], pass.workgroups[1] ?? 1);
        compute.end();
      });
      device.queue.submit([encoder.finish()]);
    });
    const result: Record<string, Float32Array> = {};
    const counts: [string, number][] = [
      ...readInputs.map((name): [string, number] => [name, inputs[name]?.length ?? 0]),
      ...Object.entries(outputs),
    ];
    for (const [name, count] of counts) {
      const buffer = buffers.get(name);
      if (!buffer) throw new InvalidArgumentError(`${op}: reads back ${name}, which is not one of the run's buffers`);
      result[name] = (await readBuffer(gpu, buffer, `${op}: read ${name}`)).subarray(0, count);
    }
    return result;
  } finally {
    for (const buffer of buffers.values()) buffer.destroy();
  }
}

/** `gpu` is a live {@link Gpu}, from the op's options. */
export function checkGpu(op: string, gpu: unknown): asserts gpu is Gpu {
  if (!(gpu instanceof Gpu)) throw new InvalidArgumentError(`${op}: options.gpu must be a Gpu (from requestGpu()), got ${describe(gpu)}`);
  gpu.check(op);
}

/** Little-endian words of a uniform buffer, padded to 16 bytes: `u` for u32/i32, `f` for f32. */
export function uniformWords(words: readonly (readonly ['u' | 'i' | 'f', number])[]): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil(words.length / 4) * 16));
  const view = new DataView(bytes);
  words.forEach(([kind, value], i) => {
    if (kind === 'f') view.setFloat32(4 * i, value, true);
    else if (kind === 'i') view.setInt32(4 * i, value, true);
    else view.setUint32(4 * i, value, true);
  });
  return bytes;
}

/**
 * `groups` workgroups as a 2-D grid within the adapter's per-side limit; the shader folds it
 * back as `wg.y · num_workgroups.x + wg.x` and skips indices past the end.
 */
export function grid(gpu: Gpu, groups: number): [number, number] {
  const side = gpu.adapter.limits.maxComputeWorkgroupsPerDimension;
  return [Math.min(groups, side), Math.ceil(groups / side)];
}

// The WebGPU device layer's failure paths as typed errors: bad arguments rejected before any GPU
// work, a shader that does not compile, a pipeline that does not validate, a validation error
// inside an error scope, a disposed and a lost device. Plus what the adapter reports.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DisposedError, InvalidArgumentError, OutOfMemoryError, ShapeError } from '../../../dist/index.node.js';
import {
  DeviceLostError,
  type Gpu,
  GpuError,
  GpuMatmul,
  compileGpuShader,
  gpuMatmul,
  requestGpu,
  withErrorScopes,
} from '../../../dist/internals.node.js';
import { testGpu } from './gpu.js';

const { gpu, skip } = await testGpu('webgpu/device.test.ts');

describe.skipIf(skip !== undefined)('WebGPU device layer', () => {
  afterAll(() => gpu?.dispose());

  it('describes the adapter and its limits', () => {
    const { adapter } = gpu!;
    expect(adapter.description.length + adapter.architecture.length + adapter.vendor.length).toBeGreaterThan(0);
    for (const value of Object.values(adapter.limits)) expect(value).toBeGreaterThan(0);
    expect(adapter.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 2 ** 20);
    expect(Array.isArray(adapter.features)).toBe(true);
  });

  it('rejects bad arguments with typed errors before any GPU work', async () => {
    const device = gpu!.device as GPUDevice;
    const spies = [
      vi.spyOn(device, 'createBuffer'),
      vi.spyOn(device, 'createShaderModule'),
      vi.spyOn(device, 'createComputePipelineAsync'),
      vi.spyOn(device.queue, 'submit'),
    ];
    const a = new Float32Array(6);
    const b = new Float32Array(12);
    const ok = { gpu: gpu!, m: 2, k: 3, n: 4 };
    await expect(gpuMatmul(a, b, { ...ok, m: 0 })).rejects.toThrow(InvalidArgumentError);
    await expect(gpuMatmul(a, b, { ...ok, k: 2.5 })).rejects.toThrow(InvalidArgumentError);
    await expect(gpuMatmul(a, b, { ...ok, form: 'ba' as 'ab' })).rejects.toThrow(InvalidArgumentError);
    await expect(gpuMatmul(new Float32Array(5), b, ok)).rejects.toThrow(ShapeError);
    await expect(gpuMatmul(a, new Float32Array(13), ok)).rejects.toThrow(ShapeError);
    await expect(gpuMatmul(a, b, { ...ok, bias: new Float32Array(3) })).rejects.toThrow(ShapeError);
    await expect(gpuMatmul([1, 2, 3, 4, 5, 6] as unknown as Float32Array, b, ok)).rejects.toThrow(InvalidArgumentError);
    await expect(gpuMatmul(a, b, { ...ok, gpu: undefined as unknown as Gpu })).rejects.toThrow(InvalidArgumentError);
    // 40000 × 40000 f32 is 6.4 GB: beyond the storage binding size of any adapter.
    await expect(GpuMatmul.create(gpu!, { m: 40_000, k: 40_000, n: 1 })).rejects.toThrow(OutOfMemoryError);
    for (const spy of spies) {
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
    }
  });

  it('a shader that does not compile: GpuError "shader" with the compiler messages', async () => {
    const code = '@compute @workgroup_size(1) fn main() {\n  let x: f32 = undefined_name;\n}\n';
    const error = await compileGpuShader(gpu!, { label: 'broken', code }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    const gpuError = error as InstanceType<typeof GpuError>;
    expect(gpuError.kind).toBe('shader');
    expect(gpuError.messages.length).toBeGreaterThan(0);
    expect(gpuError.messages[0]).toMatch(/^2:\d+: .*undefined_name/);
    expect(gpuError.message).toContain('broken');
  });

  it('a pipeline that does not validate (workgroup too large): GpuError "shader"', async () => {
    const code = '@compute @workgroup_size(1024, 1024) fn main() {}\n';
    const error = await compileGpuShader(gpu!, { label: 'too-large', code }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    expect((error as InstanceType<typeof GpuError>).kind).toBe('shader');
    expect((error as InstanceType<typeof GpuError>).messages.join('\n')).toMatch(/workgroup/i);
  });

  it('withErrorScopes turns a validation error into GpuError "validation" and passes results through', async () => {
    const device = gpu!.device as GPUDevice;
    const value = await withErrorScopes(gpu!, 'fine', () => 42);
    expect(value).toBe(42);
    const error = await withErrorScopes(gpu!, 'bad buffer', () => {
      // MAP_READ may only be combined with COPY_DST.
      device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuError);
    expect((error as InstanceType<typeof GpuError>).kind).toBe('validation');
    expect((error as InstanceType<typeof GpuError>).message).toContain('bad buffer');
  });

  it('a disposed Gpu throws DisposedError; a lost device throws DeviceLostError', async () => {
    const disposed = await requestGpu();
    disposed.dispose();
    disposed.dispose(); // idempotent
    await expect(gpuMatmul(new Float32Array(1), new Float32Array(1), { gpu: disposed, m: 1, k: 1, n: 1 })).rejects.toThrow(DisposedError);

    const lost = await requestGpu();
    const plan = await GpuMatmul.create(lost, { m: 2, k: 2, n: 2 });
    (lost.device as GPUDevice).destroy(); // as if the browser or the driver took it away
    const lostError = await lost.lost;
    expect(lostError).toBeInstanceOf(DeviceLostError);
    expect(lostError.reason).toBe('destroyed');
    await expect(gpuMatmul(new Float32Array(4), new Float32Array(4), { gpu: lost, m: 2, k: 2, n: 2 })).rejects.toThrow(DeviceLostError);
    await expect(plan.read()).rejects.toThrow(DeviceLostError);
    lost.dispose();
  });
});

/** Reading a GPU buffer back into a `Float32Array`, failing (never hanging) if the device is lost. */
import { type Gpu, gpuDevice } from './device.js';
import { withErrorScopes } from './scopes.js';

/**
 * Copies `source` (usage `COPY_SRC`, a whole number of f32) to a staging buffer after the work
 * submitted so far, maps it and returns a copy of its contents.
 * @throws DeviceLostError when the device is lost before the data arrives
 * @throws GpuError when WebGPU rejects the copy
 */
export async function readBuffer(gpu: Gpu, source: GPUBuffer, what: string): Promise<Float32Array> {
  const device = gpuDevice(gpu);
  const staging = await withErrorScopes(gpu, what, () => {
    const buffer = device.createBuffer({
      label: `${source.label}.staging`,
      size: source.size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const encoder = device.createCommandEncoder({ label: what });
    encoder.copyBufferToBuffer(source, 0, buffer, 0, source.size);
    device.queue.submit([encoder.finish()]);
    return buffer;
  });
  try {
    // A lost device rejects mapAsync in Dawn and browsers; the race makes sure of it.
    await Promise.race([
      staging.mapAsync(GPUMapMode.READ),
      gpu.lost.then((error) => {
        throw error;
      }),
    ]);
    return new Float32Array(staging.getMappedRange().slice(0));
  } catch (error) {
    gpu.check(what);
    throw error;
  } finally {
    staging.destroy();
  }
}

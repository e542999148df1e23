/**
 * WebGPU in Node: the npm package `webgpu` (Dawn's Node bindings, prebuilt in the package), an
 * optional peer dependency loaded only when a GPU is requested.
 */
import { UnsupportedError } from '../errors.js';

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

let dawnGpu: Promise<GPU> | undefined;

/**
 * Dawn's `GPU` object, made once per process, with its globals (`GPUBufferUsage`,
 * `GPUMapMode`, …) added to `globalThis` where missing.
 * @throws UnsupportedError when the `webgpu` package is not installed or does not load
 */
export function loadNodeGpu(): Promise<GPU> {
  dawnGpu ??= importDawn().catch((error: unknown) => {
    dawnGpu = undefined;
    throw error;
  });
  return dawnGpu;
}

async function importDawn(): Promise<GPU> {
  // A variable specifier, so bundlers of the browser build leave the Node-only package alone.
  const specifier = 'webgpu';
  let dawn: DawnModule;
  try {
    dawn = (await import(/* @vite-ignore */ specifier)) as DawnModule;
  } catch (error) {
    throw new UnsupportedError(
      `WebGPU in Node needs the npm package "webgpu" (npm install webgpu); it did not load: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  return dawn.create([]);
}

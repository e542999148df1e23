/**
 * The wasm-bindgen glue of each build (generated into ./gen by scripts/build-wasm.mjs, never
 * edited), behind one typed interface. All builds export the same kernels; the threaded
 * builds add the pool functions.
 */
import * as relaxedGlue from './gen/relaxed/wasmformer.js';
import * as simdGlue from './gen/simd/wasmformer.js';
import * as threadsRelaxedGlue from './gen/threads-relaxed/wasmformer.js';
import * as threadsGlue from './gen/threads/wasmformer.js';
import type { Variant } from './variants.js';

/** The functions every build exports (the generated `initSync` types differ per build). */
export type Glue = Omit<typeof simdGlue, 'initSync' | 'default'> & {
  initSync(init: { module: WebAssembly.Module; memory?: WebAssembly.Memory }): { memory: WebAssembly.Memory };
};
/** The functions of a threaded build. */
export type ThreadsGlue = typeof threadsGlue;

const GLUE: Readonly<Record<Variant, Glue>> = {
  simd: simdGlue,
  relaxed: relaxedGlue,
  threads: threadsGlue,
  'threads-relaxed': threadsRelaxedGlue,
};

/** The glue module of `variant`. */
export function glueFor(variant: Variant): Glue {
  return GLUE[variant];
}

/** The glue module of a threaded build. */
export function threadsGlueFor(variant: 'threads' | 'threads-relaxed'): ThreadsGlue {
  return variant === 'threads' ? threadsGlue : threadsRelaxedGlue;
}

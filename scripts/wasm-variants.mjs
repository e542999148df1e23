// The WebAssembly builds made from crates/wasm, one source. Shared by build-wasm.mjs (which
// builds them) and test-wasm-core.mjs (which runs the core's tests under the same flags).
// ts/src/wasm/variants.ts describes the same four builds to the loader.

const SIMD = '+simd128';
const RELAXED = '+simd128,+relaxed-simd';
const ATOMICS = '+atomics,+bulk-memory,+mutable-globals';

// Shared memory imported from JS (so workers can share it), up to wasm32's 4 GiB; the TLS
// symbols let wasm-bindgen give each worker thread its own thread-local storage.
const THREAD_LINK_ARGS = [
  '--shared-memory',
  '--import-memory',
  '--max-memory=4294967296',
  '--export=__wasm_init_tls',
  '--export=__tls_size',
  '--export=__tls_align',
  '--export=__tls_base',
].flatMap((arg) => ['-C', `link-arg=${arg}`]);

/** @type {Record<string, {targetFeatures: string, threads: boolean, linkArgs: string[]}>} */
export const VARIANTS = {
  simd: { targetFeatures: SIMD, threads: false, linkArgs: [] },
  relaxed: { targetFeatures: RELAXED, threads: false, linkArgs: [] },
  threads: { targetFeatures: `${SIMD},${ATOMICS}`, threads: true, linkArgs: THREAD_LINK_ARGS },
  'threads-relaxed': { targetFeatures: `${RELAXED},${ATOMICS}`, threads: true, linkArgs: THREAD_LINK_ARGS },
};

/** RUSTFLAGS for one variant. */
export function rustflags(variant) {
  const v = VARIANTS[variant];
  if (!v) throw new Error(`unknown wasm variant ${variant}; expected one of ${Object.keys(VARIANTS).join(', ')}`);
  return ['-C', `target-feature=${v.targetFeatures}`, ...v.linkArgs].join(' ');
}

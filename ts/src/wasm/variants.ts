/**
 * The WebAssembly builds that ship in the package (built by scripts/build-wasm.mjs from one
 * Rust source) and how to tell which of them this engine can run.
 */
import { relaxedSimd, simd, threads } from 'wasm-feature-detect';

/** Which .wasm build is running. */
export type Variant = 'simd' | 'relaxed' | 'threads' | 'threads-relaxed';

/** All builds, fastest first: the loader takes the first one the engine supports. */
export const VARIANTS_FASTEST_FIRST: readonly Variant[] = ['threads-relaxed', 'threads', 'relaxed', 'simd'];

/** What each build needs from the engine. */
export const VARIANT_NEEDS: Readonly<Record<Variant, { relaxedSimd: boolean; threads: boolean }>> = {
  simd: { relaxedSimd: false, threads: false },
  relaxed: { relaxedSimd: true, threads: false },
  threads: { relaxedSimd: false, threads: true },
  'threads-relaxed': { relaxedSimd: true, threads: true },
};

/** What the engine supports, probed once with tiny modules (`WebAssembly.validate`). */
export interface EngineFeatures {
  /** WebAssembly 128-bit SIMD (simd128). */
  simd: boolean;
  /** Relaxed SIMD (fused multiply-add lanes), which the `relaxed` builds use. */
  relaxedSimd: boolean;
  /** Shared memory + atomics in WebAssembly. */
  atomics: boolean;
  /** Workers can share that memory (SharedArrayBuffer exists: cross-origin isolated pages, Node). */
  sharedMemory: boolean;
  /** The platform can start workers. */
  workers: boolean;
}

/** Probes the engine. `workers` comes from the platform (Node or browser). */
export async function probeEngine(workers: boolean): Promise<EngineFeatures> {
  const [hasSimd, hasRelaxed, hasAtomics] = await Promise.all([simd(), relaxedSimd(), threads()]);
  let sharedMemory = typeof SharedArrayBuffer !== 'undefined';
  if (sharedMemory) {
    try {
      new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    } catch {
      sharedMemory = false;
    }
  }
  return { simd: hasSimd, relaxedSimd: hasRelaxed, atomics: hasAtomics, sharedMemory, workers };
}

/** Why `variant` cannot run here, or `undefined` if it can. */
export function unsupportedReason(variant: Variant, engine: EngineFeatures): string | undefined {
  const needs = VARIANT_NEEDS[variant];
  if (!engine.simd) return 'this engine has no WebAssembly SIMD (simd128)';
  if (needs.relaxedSimd && !engine.relaxedSimd) {
    return 'this engine has no relaxed SIMD (Node < 22 needs --experimental-wasm-relaxed-simd; Chromium 114+ has it)';
  }
  if (needs.threads) {
    if (!engine.atomics) return 'this engine has no WebAssembly threads (atomics)';
    if (!engine.sharedMemory) {
      return 'shared memory is unavailable (browsers need a cross-origin isolated page: COOP same-origin + COEP require-corp)';
    }
    if (!engine.workers) return 'this platform cannot start workers';
  }
  return undefined;
}

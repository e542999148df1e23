// The device for the WebGPU tests: lavapipe in Node here (scripts/setup-toolchain.sh --webgpu).
// Without an adapter the test files skip and print why, unless WASMFORMER_REQUIRE_WEBGPU=1, where
// a missing adapter fails them.
import { UnsupportedError } from '../../../dist/index.node.js';
import { type Gpu, requestGpu } from '../../../dist/internals.node.js';

/** Whether a missing adapter must fail the tests (set on machines known to have one, e.g. CI). */
export const REQUIRE_WEBGPU = process.env.WASMFORMER_REQUIRE_WEBGPU === '1';

/**
 * A device, or why there is none (`UnsupportedError` only: any other failure is thrown).
 * @throws the UnsupportedError itself when {@link REQUIRE_WEBGPU}
 */
export async function testGpu(file: string): Promise<{ gpu: Gpu; skip?: undefined } | { gpu?: undefined; skip: string }> {
  try {
    return { gpu: await requestGpu() };
  } catch (error) {
    if (!(error instanceof UnsupportedError) || REQUIRE_WEBGPU) throw error;
    const skip = `${file}: skipped, no WebGPU adapter: ${error.message} (set WASMFORMER_REQUIRE_WEBGPU=1 to fail instead)`;
    console.warn(skip);
    return { skip };
  }
}

/**
 * The parity criterion: 1e-4 relative with an absolute floor of 1e-6, relative to the magnitude
 * that rounding errors of a sum scale with: |got − want| ≤ 1e-4·scale + 1e-6, where
 * `scale[i, j]` = Σ_k |op(a)[i, k]·op(b)[k, j]| + |bias[j]| (see {@link matmulScale}). (A first
 * version compared with |want| itself; under cancellation, |want| ≪ scale, it failed on
 * rounding alone: see the WebGPU report.) Returns the first element that fails, described, or
 * undefined.
 */
export function firstMismatch(got: Float32Array, want: Float32Array, scale: Float64Array): string | undefined {
  if (got.length !== want.length) return `length ${got.length}, want ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const [g, w, s] = [got[i]!, want[i]!, scale[i]!];
    if (!(Math.abs(g - w) <= 1e-4 * s + 1e-6)) return `element ${i}: got ${g}, want ${w}, scale ${s}`;
  }
  return undefined;
}

/** Σ_k |op(a)[i, k]·op(b)[k, j]| + |bias[j]| for every output `[i, j]` of a matmul: `[M, N]` f64. */
export function matmulScale(
  a: Float32Array,
  b: Float32Array,
  dims: { m: number; k: number; n: number; form: 'ab' | 'abt' | 'atb'; bias?: Float32Array | undefined },
): Float64Array {
  const { m, k, n, form, bias } = dims;
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = bias ? Math.abs(bias[j]!) : 0;
      for (let p = 0; p < k; p++) {
        const x = form === 'atb' ? a[p * m + i]! : a[i * k + p]!;
        const y = form === 'abt' ? b[j * k + p]! : b[p * n + j]!;
        sum += Math.abs(x * y);
      }
      scale[i * n + j] = sum;
    }
  }
  return scale;
}

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
 * The parity criterion, fixed before the first run: every element within 1e-4 relative with an
 * absolute floor of 1e-6, |got − want| ≤ 1e-4·|want| + 1e-6. Returns the first element that is
 * not, described, or undefined.
 */
export function firstMismatch(got: Float32Array, want: Float32Array): string | undefined {
  if (got.length !== want.length) return `length ${got.length}, want ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    if (!(Math.abs(g - w) <= 1e-4 * Math.abs(w) + 1e-6)) return `element ${i}: got ${g}, want ${w}`;
  }
  return undefined;
}

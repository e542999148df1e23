/** Activations and the gated linear units (the elementwise part; the projections are matmuls). */
import { callWasm } from '../errors.js';
import { wasm } from '../wasm/load.js';
import { checkArray, checkChoice } from './validate.js';

/** `'gelu'` is GPT-2's tanh approximation; `'gelu-erf'` the exact form. */
export type ActivationKind = 'gelu' | 'gelu-erf' | 'silu' | 'relu' | 'sigmoid';
/** GLU (sigmoid), ReGLU, GEGLU (tanh GELU), SwiGLU (SiLU). */
export type GluKind = 'glu' | 'reglu' | 'geglu' | 'swiglu';

const ACTIVATIONS: readonly ActivationKind[] = ['gelu', 'gelu-erf', 'silu', 'relu', 'sigmoid'];
const GLUS: readonly GluKind[] = ['glu', 'reglu', 'geglu', 'swiglu'];

/**
 * `act(x)` elementwise.
 *
 * @param x - float32, any shape
 * @returns float32, the shape of x
 *
 * @example
 * ```ts
 * kernels.activation(new Float32Array([1]), 'silu'); // [0.7310586]
 * ```
 */
export function activation(x: Float32Array, kind: ActivationKind): Float32Array {
  checkChoice('activation', 'kind', kind, ACTIVATIONS);
  checkArray('activation', 'x', x, (x as { length?: number })?.length ?? 0, '[any]');
  const out = new Float32Array(x.length);
  callWasm(() => wasm().activation(out, x, { kind }));
  return out;
}

/**
 * `act(gate) ⊙ up`, where gate = x·W and up = x·V were computed by {@link matmul}.
 *
 * @param gate - float32 `[N, F]`
 * @param up - float32 `[N, F]`
 * @returns float32 `[N, F]`
 *
 * @example
 * ```ts
 * const hidden = kernels.glu(gate, up, 'swiglu');
 * ```
 */
export function glu(gate: Float32Array, up: Float32Array, kind: GluKind): Float32Array {
  checkChoice('glu', 'kind', kind, GLUS);
  checkArray('glu', 'gate', gate, (gate as { length?: number })?.length ?? 0, '[N, F]');
  checkArray('glu', 'up', up, gate.length, `[N, F], as gate (${gate.length} elements)`);
  const out = new Float32Array(gate.length);
  callWasm(() => wasm().glu(out, gate, up, { kind }));
  return out;
}

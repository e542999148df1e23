/**
 * Activations and the GLU family on WebGPU (activation.wgsl), forward and backward: the math
 * of the core's `activation_*` and `glu_*` (crates/core/src/kernels/glu.rs), with the kinds of
 * the wasm `activation` and `glu`.
 */
import { checkArray, checkChoice, describe } from '../kernels/validate.js';
import { InvalidArgumentError } from '../errors.js';
import ACTIVATION_WGSL from './activation.wgsl';
import type { Gpu } from './device.js';
import { checkGpu, grid, runKernel, uniformWords } from './kernel.js';

// The kinds are declared here, not imported from kernels/glu.ts: a type this module shares
// with the `kernels` namespace moves glu.ts into a chunk of both entries, and the bundled .d.ts
// then declares that namespace's types as values.
/** An activation of the GPU kernels, the wasm `activation`'s names: `'gelu'` is the tanh form. */
export type GpuActivationKind = 'gelu' | 'gelu-erf' | 'silu' | 'relu' | 'sigmoid';
/** A gated unit of the GPU kernels, the wasm `glu`'s names. */
export type GpuGluKind = 'glu' | 'reglu' | 'geglu' | 'swiglu';

/** Options of {@link gpuActivation} and {@link gpuActivationBackward}. */
export interface GpuActivationOptions {
  /** The device to run on (from {@link requestGpu}). */
  gpu: Gpu;
  /** The activation, as in the wasm `activation`: `'gelu'` is the tanh form, `'gelu-erf'` the exact one. */
  kind: GpuActivationKind;
}

/** Options of {@link gpuGlu} and {@link gpuGluBackward}. */
export interface GpuGluOptions {
  /** The device to run on (from {@link requestGpu}). */
  gpu: Gpu;
  /** The gated unit, as in the wasm `glu`: GLU (sigmoid), ReGLU, GEGLU (tanh GELU), SwiGLU (SiLU). */
  kind: GpuGluKind;
}

/** Inputs of {@link gpuActivationBackward}. */
export interface GpuActivationBackwardInputs {
  /** float32, the gradient of the forward's output (any shape). */
  dout: Float32Array;
  /** float32, the forward's input (the shape of `dout`). */
  x: Float32Array;
}

/** Inputs of {@link gpuGluBackward}. */
export interface GpuGluBackwardInputs {
  /** `[N, F]` float32, the gradient of the forward's output. */
  dout: Float32Array;
  /** `[N, F]` float32, the forward's gate. */
  gate: Float32Array;
  /** `[N, F]` float32, the forward's up projection. */
  up: Float32Array;
}

/** Gradients from {@link gpuGluBackward}, each a new array. */
export interface GpuGluGradients {
  /** `[N, F]` float32: `dout ⊙ up ⊙ act'(gate)`. */
  dgate: Float32Array;
  /** `[N, F]` float32: `dout ⊙ act(gate)`. */
  dup: Float32Array;
}

const ACTIVATIONS: readonly GpuActivationKind[] = ['gelu', 'gelu-erf', 'silu', 'relu', 'sigmoid'];
const GLUS: readonly GpuGluKind[] = ['glu', 'reglu', 'geglu', 'swiglu'];
const ACT_CODE: Record<GpuActivationKind, number> = { gelu: 0, 'gelu-erf': 1, silu: 2, relu: 3, sigmoid: 4 };
const GLU_ACT: Record<GpuGluKind, GpuActivationKind> = { glu: 'sigmoid', reglu: 'relu', geglu: 'gelu', swiglu: 'silu' };
const WG = 64; // invocations per workgroup (activation.wgsl WG)

/**
 * `act(x)` elementwise on the GPU.
 *
 * @param x - float32, any shape (non-empty)
 * @returns float32, the shape of x
 * @throws InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * await gpuActivation(new Float32Array([1]), { gpu, kind: 'silu' }); // [0.7310586]
 * ```
 */
export async function gpuActivation(x: Float32Array, options: GpuActivationOptions): Promise<Float32Array> {
  const { gpu, kind } = checkOptions('gpuActivation', options, ACTIVATIONS);
  const n = checkElements('gpuActivation', { x });
  const { out } = await run(gpu, 'gpuActivation', { kind, entry: 'act_forward', n, inputs: { x }, outputs: ['out'] });
  return out!;
}

/**
 * Gradient of {@link gpuActivation}: `dinp = dout ⊙ act'(x)` (assigned).
 *
 * @param inputs - `dout, x`: float32, one shape
 * @returns `dinp`: float32, that shape
 * @throws ShapeError or InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const dinp = await gpuActivationBackward({ dout, x }, { gpu, kind: 'gelu' });
 * ```
 */
export async function gpuActivationBackward(inputs: GpuActivationBackwardInputs, options: GpuActivationOptions): Promise<Float32Array> {
  const { gpu, kind } = checkOptions('gpuActivationBackward', options, ACTIVATIONS);
  const { dout, x } = inputs ?? ({} as GpuActivationBackwardInputs);
  const n = checkElements('gpuActivationBackward', { x, dout });
  const { out } = await run(gpu, 'gpuActivationBackward', { kind, entry: 'act_backward', n, inputs: { x, dout }, outputs: ['out'] });
  return out!;
}

/**
 * `act(gate) ⊙ up` on the GPU, where `gate = x·W` and `up = x·V` come from matmuls.
 *
 * @param gate - float32 `[N, F]`
 * @param up - float32 `[N, F]`
 * @returns float32 `[N, F]`
 * @throws ShapeError or InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const hidden = await gpuGlu(gate, up, { gpu, kind: 'swiglu' });
 * ```
 */
export async function gpuGlu(gate: Float32Array, up: Float32Array, options: GpuGluOptions): Promise<Float32Array> {
  const { gpu, kind } = checkOptions('gpuGlu', options, GLUS);
  const n = checkElements('gpuGlu', { gate, up });
  const { out } = await run(gpu, 'gpuGlu', { kind: GLU_ACT[kind], entry: 'glu_forward', n, inputs: { x: gate, up }, outputs: ['out'] });
  return out!;
}

/**
 * Gradients of {@link gpuGlu}: `dgate = dout ⊙ up ⊙ act'(gate)`, `dup = dout ⊙ act(gate)` (assigned).
 *
 * @param inputs - `dout, gate, up`: float32 `[N, F]`
 * @returns `dgate, dup`: float32 `[N, F]`
 * @throws ShapeError or InvalidArgumentError for bad arguments, before any GPU work
 * @throws OutOfMemoryError, UnsupportedError, GpuError, DeviceLostError or DisposedError from the device
 *
 * @example
 * ```ts
 * const { dgate, dup } = await gpuGluBackward({ dout, gate, up }, { gpu, kind: 'geglu' });
 * ```
 */
export async function gpuGluBackward(inputs: GpuGluBackwardInputs, options: GpuGluOptions): Promise<GpuGluGradients> {
  const { gpu, kind } = checkOptions('gpuGluBackward', options, GLUS);
  const { dout, gate, up } = inputs ?? ({} as GpuGluBackwardInputs);
  const n = checkElements('gpuGluBackward', { gate, up, dout });
  const { out, dup } = await run(gpu, 'gpuGluBackward', {
    kind: GLU_ACT[kind],
    entry: 'glu_backward',
    n,
    inputs: { x: gate, up, dout },
    outputs: ['out', 'dup'],
  });
  return { dgate: out!, dup: dup! };
}

/** The device and kind, checked. */
function checkOptions<K extends string>(op: string, options: { gpu: Gpu; kind: K }, kinds: readonly K[]): { gpu: Gpu; kind: K } {
  const { gpu, kind } = options ?? ({} as { gpu: Gpu; kind: K });
  checkGpu(op, gpu);
  checkChoice(op, 'kind', kind, kinds);
  return { gpu, kind };
}

/** Every array is a non-empty Float32Array of the first one's length; returns that length. */
function checkElements(op: string, arrays: Record<string, unknown>): number {
  const [[firstName, first]] = Object.entries(arrays) as [[string, unknown]];
  if (!(first instanceof Float32Array))
    throw new InvalidArgumentError(`${op}: ${firstName} must be a Float32Array, got ${describe(first)}`);
  if (first.length === 0) throw new InvalidArgumentError(`${op}: ${firstName} must not be empty`);
  for (const [name, array] of Object.entries(arrays)) {
    checkArray(op, name, array, first.length, `as ${firstName} (${first.length} elements)`);
  }
  return first.length;
}

/** One elementwise pass over `n` elements. */
function run(
  gpu: Gpu,
  op: string,
  args: { kind: GpuActivationKind; entry: string; n: number; inputs: Record<string, Float32Array>; outputs: string[] },
): Promise<Record<string, Float32Array>> {
  const { kind, entry, n, inputs, outputs } = args;
  const slots: Record<string, number> = { params: 0, x: 1, up: 2, dout: 3, out: 4, dup: 5 };
  const names = ['params', ...Object.keys(inputs), ...outputs];
  return runKernel(gpu, {
    op,
    inputs,
    outputs: Object.fromEntries(outputs.map((name) => [name, n])),
    params: uniformWords([['u', n]]),
    passes: [
      {
        label: `activation.${entry}`,
        code: ACTIVATION_WGSL,
        entryPoint: entry,
        constants: { ACT: ACT_CODE[kind] },
        bindings: names.map((name) => [slots[name]!, name] as const),
        workgroups: grid(gpu, Math.ceil(n / WG)),
      },
    ],
  });
}

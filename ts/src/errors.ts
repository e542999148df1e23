/**
 * Typed errors. Every error wasmformer throws is a {@link WasmformerError}; Rust errors
 * arrive as JS `Error`s whose `name` is the kind, and {@link fromWasmError} turns them into
 * these classes, so `instanceof` works across the boundary.
 */

/** Base class of every error wasmformer throws. */
export class WasmformerError extends Error {
  /** `'WasmformerError'`: the class name, which survives minification and errors raised inside WebAssembly carry. */
  override name = 'WasmformerError';
}

/** A buffer's length or a dimension does not match what the operation needs. */
export class ShapeError extends WasmformerError {
  /** `'ShapeError'`: the class name, which survives minification and errors raised inside WebAssembly carry. */
  override name = 'ShapeError';
  /** What was expected, e.g. `"a: 12 elements ([M, K] = [3, 4])"`. */
  readonly expected: string;
  /** What was passed. */
  readonly got: string;

  constructor(message: string, expected = '', got = '') {
    super(message);
    this.expected = expected;
    this.got = got;
  }
}

/** An argument is outside its allowed values. */
export class InvalidArgumentError extends WasmformerError {
  /** `'InvalidArgumentError'`: the class name, which survives minification and errors raised inside WebAssembly carry. */
  override name = 'InvalidArgumentError';
}

/** The requested WebAssembly build cannot run in this engine. */
export class UnsupportedError extends WasmformerError {
  /** `'UnsupportedError'`: the class name, which survives minification and errors raised inside WebAssembly carry. */
  override name = 'UnsupportedError';
}

/** A kernel was called before {@link init} finished. */
export class NotInitializedError extends WasmformerError {
  /** `'NotInitializedError'`: the class name, which survives minification and errors raised inside WebAssembly carry. */
  override name = 'NotInitializedError';
}

/** Starting or using the worker thread pool failed. */
export class ThreadPoolError extends WasmformerError {
  /** `'ThreadPoolError'`: the class name, which survives minification and errors raised inside WebAssembly carry. */
  override name = 'ThreadPoolError';
}

/** A checkpoint or weights file is missing, truncated, corrupted or of the wrong kind. */
export class CheckpointError extends WasmformerError {
  /** `'CheckpointError'`: the class name, which survives minification and errors raised inside WebAssembly carry. */
  override name = 'CheckpointError';
}

/**
 * A configuration one side cannot represent: a Hugging Face `config.json` field wasmformer
 * does not implement, or a wasmformer config the Hugging Face architecture has no field for.
 */
export class UnsupportedConfigError extends CheckpointError {
  /** `'UnsupportedConfigError'`: the class name, which survives minification and errors raised inside WebAssembly carry. */
  override name = 'UnsupportedConfigError';
  /** The offending field, in the naming of the side that has it (`num_key_value_heads`, `positional`). */
  readonly field: string;
  /** Its value. */
  readonly value: unknown;

  constructor(message: string, field: string, value: unknown) {
    super(message);
    this.field = field;
    this.value = value;
  }
}

/** A model, trainer or tokenizer was used after `dispose()`. */
export class DisposedError extends WasmformerError {
  /** `'DisposedError'`: the class name, which survives minification and errors raised inside WebAssembly carry. */
  override name = 'DisposedError';
}

/** A model or batch needs more memory than WebAssembly can address (4 GiB) or allocate. */
export class OutOfMemoryError extends WasmformerError {
  /** `'OutOfMemoryError'`: the class name, which survives minification and errors raised inside WebAssembly carry. */
  override name = 'OutOfMemoryError';
}

/** Training produced a non-finite loss or gradient (the parameters were left unchanged). */
export class NumericalError extends WasmformerError {
  /** `'NumericalError'`: the class name, which survives minification and errors raised inside WebAssembly carry. */
  override name = 'NumericalError';
}

/** What failed on the GPU: a shader that does not compile, a call WebGPU rejects, or the implementation itself. */
export type GpuErrorKind = 'shader' | 'validation' | 'internal';

/**
 * WebGPU reported an error: a shader that failed to compile or a pipeline that failed to
 * validate (`'shader'`), a call it rejected (`'validation'`), or a failure of the implementation
 * (`'internal'`). `messages` holds the implementation's own messages, one per line it reported.
 */
export class GpuError extends WasmformerError {
  /** `'GpuError'`: the class name, which survives minification. */
  override name = 'GpuError';
  /** Which kind of failure. */
  readonly kind: GpuErrorKind;
  /** The implementation's messages (compiler messages as `line:column: text`). */
  readonly messages: readonly string[];

  constructor(message: string, kind: GpuErrorKind, messages: readonly string[] = []) {
    super(messages.length > 0 ? `${message}\n${messages.map((m) => `  ${m}`).join('\n')}` : message);
    this.kind = kind;
    this.messages = messages;
  }
}

/**
 * The GPU device was lost (destroyed by the browser, a driver reset, or the adapter went away).
 * Whatever lived in its buffers is gone; every later call on it throws this error.
 */
export class DeviceLostError extends WasmformerError {
  /** `'DeviceLostError'`: the class name, which survives minification. */
  override name = 'DeviceLostError';
  /** WebGPU's reason: `'destroyed'` or `'unknown'`. */
  readonly reason: string;

  constructor(message: string, reason: string) {
    super(message);
    this.reason = reason;
  }
}

const BY_NAME: Record<string, new (message: string) => WasmformerError> = {
  ShapeError,
  InvalidArgumentError,
  UnsupportedError,
  ThreadPoolError,
  OutOfMemoryError,
};

let interpretFailure: ((error: Error) => WasmformerError | undefined) | undefined;

/**
 * Lets the loader explain errors only it can: a trap or a stuck object after a worker of the
 * thread pool was lost during a call. `interpret` returns undefined for anything else.
 * @internal
 */
export function setFailureInterpreter(interpret: (error: Error) => WasmformerError | undefined): void {
  interpretFailure = interpret;
}

/** Maps an error thrown by the WebAssembly module to its typed class. */
export function fromWasmError(error: unknown): Error {
  if (error instanceof WasmformerError) return error;
  if (error instanceof Error) {
    const interpreted = interpretFailure?.(error);
    if (interpreted) return interpreted;
    const Class = BY_NAME[error.name];
    if (Class) return new Class(error.message);
    if (error instanceof WebAssembly.RuntimeError) {
      return new WasmformerError(`internal error in the WebAssembly module: ${error.message}`);
    }
    return error;
  }
  return new WasmformerError(String(error));
}

let pendingError: WasmformerError | undefined;

/**
 * Makes the next {@link callWasm} throw `error` instead of running its call: how the loader
 * reports a failure that happened between calls (a thread-pool worker that stopped).
 * @internal
 */
export function failNextCall(error: WasmformerError): void {
  pendingError = error;
}

/** Calls into the WebAssembly module, rethrowing its errors as typed classes. */
export function callWasm<T>(call: () => T): T {
  if (pendingError) {
    const error = pendingError;
    pendingError = undefined;
    throw error;
  }
  try {
    return call();
  } catch (error) {
    throw fromWasmError(error);
  }
}

/**
 * The loader: picks the fastest WebAssembly build this engine runs (or the one the caller
 * forces), instantiates it, and on the threaded builds starts the worker thread pool.
 */
import {
  InvalidArgumentError,
  NotInitializedError,
  ThreadPoolError,
  UnsupportedError,
  type WasmformerError,
  callWasm,
  failNextCall,
  setFailureInterpreter,
} from '../errors.js';
import { type Glue, glueFor, threadsGlueFor } from './glue.js';
import { type PoolWorker, platform } from './platform.js';
import { type EngineFeatures, VARIANTS_FASTEST_FIRST, VARIANT_NEEDS, type Variant, probeEngine, unsupportedReason } from './variants.js';

/** Options of {@link init}. */
export interface InitOptions {
  /**
   * Use this build instead of the fastest supported one; throws {@link UnsupportedError}
   * if the engine cannot run it.
   */
  variant?: Variant;
  /**
   * Threads to compute on. Default: the host's logical cores, at most 8. `1` picks a
   * single-threaded build. On a browser's main thread the pool is not started (browsers
   * forbid blocking it): run wasmformer in a Web Worker to use threads there.
   */
  threads?: number;
}

/** What {@link init} chose and why. */
export interface RuntimeInfo {
  /** The build that is running. */
  variant: Variant;
  /** Its SIMD code path. */
  simd: 'simd128' | 'relaxed-simd';
  /** Threads kernels split their work over (1 = the calling thread only). */
  threads: number;
  /** The host the package entry installed (`'node'` or `'browser'`). */
  platform: 'node' | 'browser';
  /** What the engine supports. */
  engine: EngineFeatures;
  /** Faster builds that were passed over, and why. */
  skipped: SkippedVariant[];
  /** Anything else worth knowing (e.g. why the pool was not started). */
  notes: string[];
}

/** A build {@link init} did not pick ({@link RuntimeInfo.skipped}). */
export interface SkippedVariant {
  /** The build. */
  variant: Variant;
  /** Why it was passed over (the engine lacks a feature, `threads: 1` was asked, …). */
  reason: string;
}

interface Loaded {
  memory: WebAssembly.Memory;
  glue: Glue;
  info: RuntimeInfo;
  workers: PoolWorker[];
  /** Set once a pool worker stopped by itself: kernels then run on the calling thread. */
  poolFailure?: string;
}

const MAX_DEFAULT_THREADS = 8;
let loaded: Loaded | undefined;
let loading: Promise<Loaded> | undefined;

/**
 * Loads wasmformer's WebAssembly module. Call once and await it before anything else;
 * later calls return the same runtime (and throw if they ask for a different build).
 *
 * @example
 * ```ts
 * import { init } from 'wasmformer';
 * const runtime = await init();          // fastest build, all cores
 * console.log(runtime.variant, runtime.threads);
 * ```
 */
export async function init(options: InitOptions = {}): Promise<RuntimeInfo> {
  validateOptions(options);
  loading ??= load(options);
  let result: Loaded;
  try {
    result = await loading;
  } catch (error) {
    loading = undefined;
    throw error;
  }
  if (options.variant !== undefined && options.variant !== result.info.variant) {
    throw new InvalidArgumentError(
      `init: already running the "${result.info.variant}" build; one build is loaded per thread, so "${options.variant}" cannot be loaded now`,
    );
  }
  return result.info;
}

/** What {@link init} chose. Throws {@link NotInitializedError} before init has finished. */
export function runtimeInfo(): RuntimeInfo {
  return loadedOrThrow().info;
}

/**
 * Caps the threads kernels use, without restarting the pool (`0` = all). Benchmarks use it
 * to compare one thread with several in the same process.
 */
export function setThreadLimit(threads: number): void {
  if (!Number.isInteger(threads) || threads < 0) {
    throw new InvalidArgumentError(`setThreadLimit: threads must be an integer ≥ 0, got ${threads}`);
  }
  const state = loadedOrThrow();
  if (state.poolFailure !== undefined && threads !== 1) {
    throw new ThreadPoolError(`setThreadLimit: ${state.poolFailure}; only 1 thread is left to compute on`);
  }
  state.glue.setMaxThreads(threads);
}

/**
 * Bytes of WebAssembly memory the module holds now. Memory only grows, so this is also the
 * peak; compare it with a model's planned bytes (`trainer.memory.total`).
 */
export function wasmMemoryBytes(): number {
  return loadedOrThrow().memory.buffer.byteLength;
}

/** The module's memory, for views over module-owned arrays (create a new view per use: it grows). */
export function wasmMemory(): WebAssembly.Memory {
  return loadedOrThrow().memory;
}

/** The loaded glue, for the API modules. */
export function wasm(): Glue {
  return loadedOrThrow().glue;
}

function loadedOrThrow(): Loaded {
  if (!loaded) throw new NotInitializedError('wasmformer is not initialised: `await init()` first');
  return loaded;
}

function validateOptions(options: InitOptions): void {
  const { variant, threads } = options;
  if (variant !== undefined && !VARIANTS_FASTEST_FIRST.includes(variant)) {
    throw new InvalidArgumentError(
      `init: variant must be one of ${VARIANTS_FASTEST_FIRST.map((v) => `"${v}"`).join(', ')}, got ${JSON.stringify(variant)}`,
    );
  }
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 256)) {
    throw new InvalidArgumentError(`init: threads must be an integer from 1 to 256, got ${threads}`);
  }
  if (variant !== undefined && threads !== undefined && threads > 1 && !VARIANT_NEEDS[variant].threads) {
    throw new InvalidArgumentError(
      `init: the "${variant}" build is single-threaded; threads: ${threads} needs "threads" or "threads-relaxed"`,
    );
  }
}

async function load(options: InitOptions): Promise<Loaded> {
  const host = platform();
  const engine = await probeEngine(host.canStartWorkers());
  const skipped: RuntimeInfo['skipped'] = [];
  const candidates = options.variant ? [options.variant] : VARIANTS_FASTEST_FIRST;
  for (const variant of candidates) {
    if (options.threads === 1 && !options.variant && VARIANT_NEEDS[variant].threads) {
      skipped.push({ variant, reason: 'threads: 1 was requested' });
      continue;
    }
    const reason = unsupportedReason(variant, engine);
    if (reason) {
      if (options.variant) throw new UnsupportedError(`init: the "${variant}" build cannot run here: ${reason}`);
      skipped.push({ variant, reason });
      continue;
    }
    let module: WebAssembly.Module;
    try {
      module = await host.compileVariant(variant);
    } catch (error) {
      const why = `compiling it failed: ${String(error)}`;
      if (options.variant) throw new UnsupportedError(`init: the "${variant}" build cannot run here: ${why}`);
      skipped.push({ variant, reason: why });
      continue;
    }
    loaded = await instantiate(variant, module, engine, skipped, options);
    return loaded;
  }
  throw new UnsupportedError(`init: no wasmformer build runs here (${skipped.map((s) => `${s.variant}: ${s.reason}`).join('; ')})`);
}

async function instantiate(
  variant: Variant,
  module: WebAssembly.Module,
  engine: EngineFeatures,
  skipped: RuntimeInfo['skipped'],
  options: InitOptions,
): Promise<Loaded> {
  const host = platform();
  const glue = glueFor(variant);
  const exports = glue.initSync({ module });
  const build = JSON.parse(glue.buildInfo()) as { simd: RuntimeInfo['simd']; threads: boolean };
  const info: RuntimeInfo = {
    variant,
    simd: build.simd,
    threads: 1,
    platform: host.name,
    engine,
    skipped,
    notes: [],
  };
  const workers: PoolWorker[] = [];
  if (variant === 'threads' || variant === 'threads-relaxed') {
    const wanted = options.threads ?? Math.min(host.hardwareThreads(), MAX_DEFAULT_THREADS);
    if (!host.canBlock()) {
      info.notes.push(
        'the thread pool is not started on a browser main thread (it may not block); load wasmformer in a Web Worker to compute on threads',
      );
    } else if (wanted > 1) {
      const threadsGlue = threadsGlueFor(variant);
      callWasm(() => threadsGlue.startPool(wanted));
      const started = await Promise.allSettled(
        Array.from({ length: wanted }, () => host.startPoolWorker({ variant, module, memory: exports.memory })),
      );
      const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      for (const s of started) if (s.status === 'fulfilled') workers.push(s.value);
      if (failure) {
        // The pool stays unmarked, so kernels keep running on this thread: still usable.
        for (const w of workers) w.terminate();
        workers.length = 0;
        info.notes.push(`the thread pool could not start, running on one thread: ${String(failure.reason)}`);
      } else {
        threadsGlue.markPoolReady();
        info.threads = glue.numThreads();
      }
    }
  }
  const state: Loaded = { memory: exports.memory, glue, info, workers };
  for (const worker of workers) worker.onUnexpectedStop((reason) => poolWorkerStopped(state, reason));
  if (workers.length > 0 && (variant === 'threads' || variant === 'threads-relaxed')) {
    const threadsGlue = threadsGlueFor(variant);
    setFailureInterpreter((error) => poolLostDuringCall(state, () => threadsGlue.poolLost(), error));
  }
  return state;
}

/** Marks the runtime as running on one thread from now on, for `reason`. */
function goSerial(state: Loaded, reason: string): void {
  state.poolFailure = reason;
  state.glue.setMaxThreads(1);
  state.info.threads = 1;
  state.info.notes.push(`${reason}; kernels run on the calling thread from then on`);
}

/**
 * A worker of the pool trapped while a call was running on it (the core then traps the calling
 * thread instead of letting it wait forever): that call becomes a {@link ThreadPoolError}, and
 * so does any later use of the objects it left half-updated (wasm-bindgen's "recursive use"
 * guard still holds them).
 */
function poolLostDuringCall(state: Loaded, lost: () => boolean, error: Error): WasmformerError | undefined {
  // Typed errors from the core are the common case: ask the module about the pool only for the
  // two failures a lost worker explains.
  const trapped = error instanceof WebAssembly.RuntimeError;
  if (!(trapped || error.message.includes('recursive use of an object')) || !lost()) return undefined;
  if (trapped && state.poolFailure === undefined) {
    goSerial(state, 'a worker of the thread pool stopped during a call');
    return new ThreadPoolError(
      'a worker of the thread pool stopped during this call (it ran out of memory or aborted), so the call did not complete. ' +
        'The model or arrays it was using are in an unknown state: load the model again from its last checkpoint. ' +
        'wasmformer goes on on one thread.',
    );
  }
  if (error.message.includes('recursive use of an object')) {
    return new ThreadPoolError(
      'this object was in use when a worker of the thread pool stopped during a call; its state is lost: load it again from its last checkpoint',
    );
  }
  return undefined;
}

/**
 * A pool worker stopped by itself (an uncaught error, out of memory, terminated by the host):
 * every kernel runs on the calling thread from now on, so nothing waits for the lost thread,
 * and the next call reports it once with a {@link ThreadPoolError} (that call does not run).
 */
function poolWorkerStopped(state: Loaded, reason: string): void {
  if (state.poolFailure !== undefined) return;
  goSerial(state, `a worker of the thread pool stopped: ${reason}`);
  failNextCall(new ThreadPoolError(`${state.poolFailure}. wasmformer goes on on one thread; this call did not run, call it again`));
}

/**
 * Terminates one worker of the thread pool from outside, as the host or a crash would
 * (diagnostics: to check that the runtime reports it and goes on on one thread).
 * @returns false when no pool is running
 */
export function stopPoolWorker(): boolean {
  const worker = loadedOrThrow().workers[0];
  if (!worker) return false;
  worker.stopAsFailure();
  return true;
}

/**
 * Makes the next task a worker of the thread pool starts abort that worker, as running out of
 * memory there would (diagnostics: to check that the call running then gets a
 * {@link ThreadPoolError} instead of waiting forever).
 * @returns false when no pool is running
 */
export function failPoolWorkerDuringNextCall(): boolean {
  const state = loadedOrThrow();
  if (state.workers.length === 0 || state.poolFailure !== undefined) return false;
  const variant = state.info.variant;
  if (variant !== 'threads' && variant !== 'threads-relaxed') return false;
  threadsGlueFor(variant).injectPoolWorkerFault();
  return true;
}

/**
 * What the loader needs from the host: Node and browsers differ in how they read the .wasm
 * files that ship in the package and how they start workers. ts/src/platform/{node,browser}.ts
 * implement this; the package's `exports` map picks one.
 */
import type { Variant } from './variants.js';

/** Sent to each pool worker: the module to instantiate and the memory to share. */
export interface PoolWorkerInit {
  variant: 'threads' | 'threads-relaxed';
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
}

/** A started pool worker. */
export interface PoolWorker {
  /** Stops the worker (the loader's own shutdown; not reported as a failure). */
  terminate(): void;
  /**
   * Calls `listener` once if the worker stops by itself (an uncaught error, out of memory, or
   * terminated from outside), with the reason.
   */
  onUnexpectedStop(listener: (reason: string) => void): void;
  /** Terminates the worker as the host or a crash would: reported to `onUnexpectedStop` (diagnostics). */
  stopAsFailure(): void;
}

/** Host services for the loader. */
export interface Platform {
  readonly name: 'node' | 'browser';
  /** Compiles the .wasm of `variant` shipped beside the bundle. */
  compileVariant(variant: Variant): Promise<WebAssembly.Module>;
  /** Whether workers can be started here. */
  canStartWorkers(): boolean;
  /**
   * Whether this thread may block waiting for others (`Atomics.wait`). False on a browser's
   * main thread, where the thread pool therefore stays unused.
   */
  canBlock(): boolean;
  /** Logical cores, as the host reports them. */
  hardwareThreads(): number;
  /** Starts a pool worker; resolves once it has instantiated the module and is running. */
  startPoolWorker(init: PoolWorkerInit): Promise<PoolWorker>;
}

let current: Platform | undefined;

/** Installs the host's platform (done by the entry point, index.node.ts / index.browser.ts). */
export function setPlatform(platform: Platform): void {
  current = platform;
}

/** The installed platform. */
export function platform(): Platform {
  if (!current) throw new Error('wasmformer: no platform installed (import "wasmformer", not an internal file)');
  return current;
}

/** The message a pool worker posts back. */
export type PoolWorkerMessage = { type: 'ready' } | { type: 'error'; message: string };

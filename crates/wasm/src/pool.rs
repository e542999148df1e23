//! rayon's global pool on JavaScript workers (threaded build only).
//!
//! wasm32 has no OS threads, so `std::thread::spawn` cannot start rayon's workers. Instead:
//! 1. the loader (ts/src/wasm/load.ts) calls [`start_pool`] on the main thread: rayon
//!    builds a pool (not the global one, whose builder waits for its threads) with a spawn
//!    handler that only queues each `ThreadBuilder`, and hands it to the core (`par::set_pool`);
//! 2. the loader starts that many workers (worker_threads in Node, Web Workers in browsers),
//!    each running ts/src/wasm/pool-worker.ts, which instantiates this same module on the
//!    same shared memory;
//! 3. each worker calls [`run_pool_worker`], which takes one queued `ThreadBuilder` and runs
//!    rayon's worker loop on it for the rest of the worker's life;
//! 4. once every worker reported in, the loader calls [`mark_pool_ready`].
//!
//! The queue is filled before any worker exists, so the main thread never waits on a lock
//! here (browsers forbid blocking the main thread).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};

use rayon::ThreadBuilder;
use wasm_bindgen::prelude::*;

use crate::error::js_error;

static QUEUE: Mutex<VecDeque<ThreadBuilder>> = Mutex::new(VecDeque::new());
static QUEUED: Condvar = Condvar::new();

/// Builds a rayon pool with `n_threads` threads whose bodies wait in a queue for
/// [`run_pool_worker`]. Call once, before starting the workers.
#[wasm_bindgen(js_name = startPool)]
pub fn start_pool(n_threads: usize) -> Result<(), JsValue> {
    if n_threads == 0 {
        return Err(js_error("InvalidArgumentError", "startPool: n_threads must be at least 1"));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n_threads)
        .thread_name(|i| format!("wasmformer-{i}"))
        .spawn_handler(|thread| {
            QUEUE.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push_back(thread);
            QUEUED.notify_one();
            Ok(())
        })
        .build()
        .map_err(|e| js_error("ThreadPoolError", &format!("startPool: {e}")))?;
    wasmformer_core::par::set_pool(pool)
        .map_err(|e| js_error("ThreadPoolError", &format!("startPool: {e}")))
}

/// Declares the pool's workers started: kernels split their work over them from now on.
#[wasm_bindgen(js_name = markPoolReady)]
pub fn mark_pool_ready() {
    wasmformer_core::par::mark_pool_ready();
}

/// Runs one rayon worker on the calling JS worker; returns only when the pool shuts down.
#[wasm_bindgen(js_name = runPoolWorker)]
pub fn run_pool_worker() {
    let thread = {
        let mut queue = QUEUE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            if let Some(thread) = queue.pop_front() {
                break thread;
            }
            queue = QUEUED.wait(queue).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    };
    thread.run();
}

/// Declares the calling pool worker's thread lost: its JavaScript calls this after the worker
/// trapped (out of memory, an abort), before it ends, so that a caller waiting on the pool
/// gets an error instead of waiting forever (see `wasmformer_core::par`).
#[wasm_bindgen(js_name = markPoolLost)]
pub fn mark_pool_lost() {
    wasmformer_core::par::mark_lost();
}

/// Whether a worker of the pool was lost (kernels no longer use the pool).
#[wasm_bindgen(js_name = poolLost)]
pub fn pool_lost() -> bool {
    wasmformer_core::par::lost()
}

/// Diagnostics: the next task a pool worker starts aborts that worker, as running out of
/// memory there would.
#[wasm_bindgen(js_name = injectPoolWorkerFault)]
pub fn inject_pool_worker_fault() {
    wasmformer_core::par::inject_fault();
}

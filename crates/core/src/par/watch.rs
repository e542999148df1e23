//! A pool thread lost in the middle of a call.
//!
//! rayon waits for every job it hands out, so a pool thread that dies while it runs one (a
//! WebAssembly worker that traps: out of memory, an abort) would leave the caller waiting
//! forever. In the threaded WebAssembly build the caller therefore does not wait inside rayon:
//! [`install`] hands the pool its job and waits on the job's own flag with a timeout, looking
//! at a "lost" flag that the dying worker's JavaScript raises through [`mark_lost`] before the
//! worker ends. When it is raised, the caller first waits (boundedly) for the surviving threads
//! to leave the tasks they were running, since those read the caller's data, and then traps:
//! the loader turns that trap into a `ThreadPoolError` and the runtime goes on on one thread.
//!
//! Natively no pool thread dies without taking the process with it, and rayon's own
//! `install` is used.

// The single-threaded builds have no pool to lose: only `lost()` and friends are used there.
#![cfg_attr(not(feature = "parallel"), allow(dead_code))]

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

/// Raised once a pool thread is gone; kernels stop using the pool from then on.
static LOST: AtomicBool = AtomicBool::new(false);
/// The lost thread's index in the pool (`usize::MAX` while unknown).
static LOST_INDEX: AtomicUsize = AtomicUsize::new(usize::MAX);
/// Pool threads are counted in slots modulo this (a few threads sharing a slot only makes
/// the wait for survivors more conservative).
const SLOTS: usize = 64;
/// Per pool thread: how many of the caller's tasks it is running right now.
static ACTIVE: [AtomicU32; SLOTS] = [const { AtomicU32::new(0) }; SLOTS];
/// Fault injection: the next task a pool thread starts aborts that thread.
static FAULT: AtomicBool = AtomicBool::new(false);

/// Whether a pool thread was lost (the pool is not used any more).
pub fn lost() -> bool {
    LOST.load(Ordering::SeqCst)
}

/// Declares the calling pool thread lost. Called by a worker whose thread died (its
/// JavaScript catches the trap), before it ends; a no-op outside the pool.
pub fn mark_lost() {
    if let Some(index) = rayon_index() {
        LOST_INDEX.store(index % SLOTS, Ordering::SeqCst);
    }
    LOST.store(true, Ordering::SeqCst);
}

/// Makes the next task a pool thread starts abort that thread, as running out of memory in
/// it would (diagnostics: to check that the caller gets an error instead of a hang).
pub fn inject_fault() {
    FAULT.store(true, Ordering::SeqCst);
}

fn rayon_index() -> Option<usize> {
    #[cfg(feature = "parallel")]
    {
        rayon::current_thread_index()
    }
    #[cfg(not(feature = "parallel"))]
    {
        None
    }
}

/// Marks one of the caller's tasks running on this thread, for as long as it lives.
pub(super) struct Task(Option<usize>);

impl Task {
    /// One task of a parallel helper: where an injected fault strikes.
    pub(super) fn enter() -> Self {
        if rayon_index().is_some()
            && FAULT.load(Ordering::Relaxed)
            && FAULT.swap(false, Ordering::SeqCst)
        {
            std::process::abort();
        }
        Self::enter_job()
    }

    /// The job [`install`] hands the pool (the caller's work between its parallel parts).
    fn enter_job() -> Self {
        let slot = rayon_index().map(|index| index % SLOTS);
        if let Some(slot) = slot {
            ACTIVE[slot].fetch_add(1, Ordering::SeqCst);
        }
        Self(slot)
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if let Some(slot) = self.0 {
            ACTIVE[slot].fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Whether a thread other than the lost one is inside one of the caller's tasks.
#[cfg(all(feature = "parallel", target_arch = "wasm32", target_feature = "atomics"))]
fn survivors_busy() -> bool {
    let lost = LOST_INDEX.load(Ordering::SeqCst);
    ACTIVE.iter().enumerate().any(|(slot, n)| slot != lost && n.load(Ordering::SeqCst) > 0)
}

/// Runs `job` on a thread of `pool` and waits for it, watching for a lost pool thread.
#[cfg(all(feature = "parallel", target_arch = "wasm32", target_feature = "atomics"))]
pub(super) fn install<R: Send, F: FnOnce() -> R + Send>(pool: &rayon::ThreadPool, job: F) -> R {
    use std::cell::UnsafeCell;
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    /// Where callers sleep between looks at their job's flag and the lost flag (one lock for
    /// all calls: there is one caller at a time in practice).
    static WAKE_LOCK: Mutex<()> = Mutex::new(());
    static WAKE: Condvar = Condvar::new();

    struct Call<F, R> {
        job: UnsafeCell<Option<F>>,
        result: UnsafeCell<Option<R>>,
        done: AtomicBool,
    }
    /// Runs the call at `address` on a pool thread.
    ///
    /// SAFETY: `address` points to a live `Call<F, R>` whose job has not been taken; the
    /// caller keeps it alive until `done` is set (or never returns).
    unsafe fn run<F: FnOnce() -> R, R>(address: usize) {
        // SAFETY: the caller of `run` guarantees `address` is a live `Call<F, R>`.
        let call = unsafe { &*(address as *const Call<F, R>) };
        // SAFETY: only this thread touches `job` (the caller does not until `done`).
        let job = unsafe { (*call.job.get()).take() };
        if let Some(job) = job {
            let result = {
                let _task = Task::enter_job();
                job()
            };
            // SAFETY: the caller reads `result` only after `done`, which is set below.
            unsafe { *call.result.get() = Some(result) };
        }
        call.done.store(true, Ordering::Release);
        // `call` may be gone from here on. Taking the lock orders this wake after the caller's
        // look at `done`, so the caller cannot miss it.
        drop(WAKE_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        WAKE.notify_all();
    }
    /// Not generic, so the closure given to rayon is `'static`.
    fn spawn(pool: &rayon::ThreadPool, run: unsafe fn(usize), address: usize) {
        // SAFETY: as for `run`, which `install` pairs with its own `Call`.
        pool.spawn(move || unsafe { run(address) });
    }

    let call = Call {
        job: UnsafeCell::new(Some(job)),
        result: UnsafeCell::new(None),
        done: AtomicBool::new(false),
    };
    spawn(pool, run::<F, R>, &call as *const Call<F, R> as usize);
    let poll = Duration::from_millis(20);
    let mut guard = WAKE_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    while !call.done.load(Ordering::Acquire) {
        if lost() {
            // The survivors still read this call's data: let them leave their tasks first
            // (bounded: one may wait forever on the lost thread's share, harmlessly).
            for _ in 0..100 {
                if !survivors_busy() {
                    break;
                }
                guard = WAKE.wait_timeout(guard, poll).unwrap_or_else(|p| p.into_inner()).0;
            }
            // The call cannot complete: trap, so that nothing returns to the caller's frames
            // while the lost thread's share of them is undone. The loader reports it.
            std::process::abort();
        }
        guard = WAKE.wait_timeout(guard, poll).unwrap_or_else(|p| p.into_inner()).0;
    }
    drop(guard);
    // SAFETY: `done` is set after `result` was written, and nothing touches it any more.
    unsafe { (*call.result.get()).take() }.expect("the pool ran the job")
}

/// Runs `job` on a thread of `pool` and waits for it (rayon's own wait).
#[cfg(all(feature = "parallel", not(all(target_arch = "wasm32", target_feature = "atomics"))))]
pub(super) fn install<R: Send>(pool: &rayon::ThreadPool, job: impl FnOnce() -> R + Send) -> R {
    pool.install(|| {
        let _task = Task::enter_job();
        job()
    })
}

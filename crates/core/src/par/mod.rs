//! Work splitting over threads: rayon when the `parallel` feature is on and a pool is usable,
//! plain loops otherwise. Kernels call these helpers and never rayon directly, so the serial
//! (simd, relaxed) and threaded WebAssembly builds share one source.
//!
//! Natively rayon's global pool is used. In WebAssembly there are no OS threads: crates/wasm
//! builds a pool whose threads are Web Workers / worker_threads started by JavaScript, hands
//! it over with [`set_pool`], and calls [`mark_pool_ready`] once every worker runs. Until then
//! everything runs on the calling thread.

mod watch;

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub use watch::{inject_fault, lost, mark_lost};

#[cfg(feature = "parallel")]
static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
static POOL_READY: AtomicBool = AtomicBool::new(cfg!(not(target_arch = "wasm32")));
/// 0 means "no limit".
static MAX_THREADS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Set while this thread runs one of several coarse tasks that already occupy the pool.
    static SERIAL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with every helper here running inline on the calling thread: for coarse tasks
/// (the row blocks of inference attention) that already keep every thread busy, so the
/// kernels inside do not pay for splitting work that no thread is free to take.
pub fn serially<R>(f: impl FnOnce() -> R) -> R {
    let previous = SERIAL.with(|s| s.replace(true));
    let result = f();
    SERIAL.with(|s| s.set(previous));
    result
}

/// Installs the pool kernels use instead of rayon's global one. Fails if one is installed.
#[cfg(feature = "parallel")]
pub fn set_pool(pool: rayon::ThreadPool) -> crate::Result<()> {
    POOL_READY.store(false, Ordering::SeqCst);
    POOL.set(pool)
        .map_err(|_| crate::Error::InvalidArgument("a thread pool is already installed".into()))
}

/// Declares the installed pool's threads running: kernels may use them from now on.
pub fn mark_pool_ready() {
    POOL_READY.store(true, Ordering::SeqCst);
}

/// Caps the threads kernels use (`0` = all of the pool). `1` makes every kernel serial, which
/// is how benchmarks measure one thread against two in the same process.
pub fn set_max_threads(n_threads: usize) {
    MAX_THREADS.store(n_threads, Ordering::SeqCst);
}

/// The number of threads kernels split their work over right now.
pub fn num_threads() -> usize {
    if SERIAL.with(std::cell::Cell::get) {
        return 1;
    }
    let pool_threads = pool_size();
    match MAX_THREADS.load(Ordering::SeqCst) {
        0 => pool_threads,
        cap => pool_threads.min(cap),
    }
}

fn pool_size() -> usize {
    #[cfg(feature = "parallel")]
    {
        if !POOL_READY.load(Ordering::SeqCst) || watch::lost() {
            return 1;
        }
        match POOL.get() {
            Some(pool) => pool.current_num_threads(),
            // wasm32 has no global pool: its std cannot spawn threads.
            None if cfg!(target_arch = "wasm32") => 1,
            None => rayon::current_num_threads(),
        }
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// Runs `job` inside the installed pool (or rayon's global one), so parallel iterators in it
/// use that pool's threads.
#[cfg(feature = "parallel")]
fn in_pool<R: Send>(job: impl FnOnce() -> R + Send) -> R {
    match POOL.get() {
        Some(pool) if rayon::current_thread_index().is_none() => watch::install(pool, job),
        _ => job(),
    }
}

/// Runs `job` on a thread of the pool (the caller waits), so that every helper it calls
/// splits its work there directly: a caller outside the pool (the JS main thread in
/// WebAssembly) then hands the pool one job instead of one per parallel helper, and the
/// pool's threads do not sleep and wake between them. Inline when there is no pool.
pub fn on_pool<R: Send>(job: impl FnOnce() -> R + Send) -> R {
    #[cfg(feature = "parallel")]
    {
        if num_threads() > 1 {
            return in_pool(job);
        }
    }
    job()
}

/// Sets every element of `buf` to zero, split over threads when it is large.
pub fn zero(buf: &mut [f32]) {
    for_each_row_block(buf, 1, 1 << 16, |_, block| block.fill(0.0));
}

/// The index of the pool thread running the caller (`None` outside the pool).
pub fn thread_index() -> Option<usize> {
    #[cfg(feature = "parallel")]
    {
        rayon::current_thread_index()
    }
    #[cfg(not(feature = "parallel"))]
    {
        None
    }
}

/// Splits `0..n_items` into at most `num_threads()` contiguous ranges of at least
/// `min_items_per_task` items and calls `task` on each, in parallel when threads are available.
pub fn for_each_range<F>(n_items: usize, min_items_per_task: usize, task: F)
where
    F: Fn(Range<usize>) + Sync + Send,
{
    let n_tasks = task_count(n_items, min_items_per_task);
    if n_tasks <= 1 {
        if n_items > 0 {
            task(0..n_items);
        }
        return;
    }
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        in_pool(|| {
            (0..n_tasks).into_par_iter().for_each(|t| {
                let _task = watch::Task::enter();
                task(split(n_items, n_tasks, t));
            });
        });
    }
    #[cfg(not(feature = "parallel"))]
    {
        (0..n_tasks).for_each(|t| task(split(n_items, n_tasks, t)));
    }
}

/// Like [`for_each_range`], but hands each task its own disjoint rows of `out`
/// (`out: [n_rows, row_len]`), so tasks can write results without sharing.
pub fn for_each_row_block<F>(out: &mut [f32], row_len: usize, min_rows_per_task: usize, task: F)
where
    F: Fn(Range<usize>, &mut [f32]) + Sync + Send,
{
    row_tasks(out, row_len, min_rows_per_task, 1, 1, task);
}

/// Like [`for_each_row_block`], but for long uniform work on machines whose cores run at
/// different speeds for a while: the rows are cut into up to `TASKS_PER_THREAD` tasks per
/// thread, in whole multiples of `row_multiple` rows (but for the last), and idle threads take
/// the remaining tasks (rayon's work stealing). With one task per thread the faster core would
/// wait for the slower one at the end of every call.
pub fn for_each_row_block_balanced<F>(
    out: &mut [f32],
    row_len: usize,
    min_rows_per_task: usize,
    row_multiple: usize,
    task: F,
) where
    F: Fn(Range<usize>, &mut [f32]) + Sync + Send,
{
    row_tasks(out, row_len, min_rows_per_task, row_multiple, TASKS_PER_THREAD, task);
}

/// Tasks per thread of [`for_each_row_block_balanced`].
const TASKS_PER_THREAD: usize = 4;

/// The rows of `out: [n_rows, row_len]` cut into up to `tasks_per_thread` tasks per thread
/// (each of at least `min_rows_per_task` rows, in whole multiples of `row_multiple` but for the
/// last), run in parallel when threads are available.
fn row_tasks<F>(
    out: &mut [f32],
    row_len: usize,
    min_rows_per_task: usize,
    row_multiple: usize,
    tasks_per_thread: usize,
    task: F,
) where
    F: Fn(Range<usize>, &mut [f32]) + Sync + Send,
{
    if row_len == 0 {
        return;
    }
    let n_rows = out.len() / row_len;
    let threads = task_count(n_rows, min_rows_per_task);
    if threads <= 1 {
        if n_rows > 0 {
            task(0..n_rows, out);
        }
        return;
    }
    let row_multiple = row_multiple.max(1);
    let n_units = n_rows.div_ceil(row_multiple);
    let min_units = min_rows_per_task.div_ceil(row_multiple).max(1);
    let n_tasks = (threads * tasks_per_thread).min(n_units / min_units).max(1);
    let rows_of_task = (0..n_tasks).map(|t| {
        let units = split(n_units, n_tasks, t);
        (units.start * row_multiple).min(n_rows)..(units.end * row_multiple).min(n_rows)
    });
    run_each(cut_rows(out, row_len, rows_of_task), |(rows, block)| task(rows, block));
}

/// [`for_each_row_block`] over two buffers of the same shape (`a, b: [n_rows, row_len]`):
/// each task gets the same rows of both.
pub fn for_each_row_block_pair<F>(
    a: &mut [f32],
    b: &mut [f32],
    row_len: usize,
    min_rows_per_task: usize,
    task: F,
) where
    F: Fn(Range<usize>, &mut [f32], &mut [f32]) + Sync + Send,
{
    if row_len == 0 {
        return;
    }
    let n_rows = a.len().min(b.len()) / row_len;
    let n_tasks = task_count(n_rows, min_rows_per_task);
    if n_tasks <= 1 {
        if n_rows > 0 {
            task(0..n_rows, a, b);
        }
        return;
    }
    let pairs: Vec<_> = row_blocks(a, n_rows, row_len, n_tasks)
        .into_iter()
        .zip(row_blocks(b, n_rows, row_len, n_tasks))
        .collect();
    run_each(pairs, |((rows, a_block), (_, b_block))| task(rows, a_block, b_block));
}

/// `buf`'s first `n_rows` rows cut into `n_tasks` contiguous blocks (as [`split`]).
fn row_blocks(
    buf: &mut [f32],
    n_rows: usize,
    row_len: usize,
    n_tasks: usize,
) -> Vec<(Range<usize>, &mut [f32])> {
    cut_rows(buf, row_len, (0..n_tasks).map(|t| split(n_rows, n_tasks, t)))
}

/// `buf: [·, row_len]` cut into the blocks of `rows`, consecutive ranges starting at row 0.
fn cut_rows(
    buf: &mut [f32],
    row_len: usize,
    rows: impl Iterator<Item = Range<usize>>,
) -> Vec<(Range<usize>, &mut [f32])> {
    let mut blocks = Vec::new();
    let mut rest = buf;
    for rows in rows {
        let (head, tail) = rest.split_at_mut(rows.len() * row_len);
        blocks.push((rows, head));
        rest = tail;
    }
    blocks
}

/// Calls `task` on every item, in parallel when threads are available.
fn run_each<T: Send>(items: Vec<T>, task: impl Fn(T) + Sync + Send) {
    #[cfg(feature = "parallel")]
    {
        use rayon::prelude::*;
        in_pool(|| {
            items.into_par_iter().for_each(|item| {
                let _task = watch::Task::enter();
                task(item);
            });
        });
    }
    #[cfg(not(feature = "parallel"))]
    {
        items.into_iter().for_each(task);
    }
}

/// A smoke test of the pool: sums a slow per-item function over `0..n_items` split across
/// threads, counting the items each pool thread computed. Returns `(sum, items_per_thread)`,
/// where the last slot counts items computed outside the pool (the calling thread).
pub fn pool_smoke(n_items: usize) -> (f64, Vec<usize>) {
    use std::sync::Mutex;
    let n_slots = num_threads() + 1;
    let counts: Vec<AtomicUsize> = (0..n_slots).map(|_| AtomicUsize::new(0)).collect();
    let total = Mutex::new(0.0f64);
    for_each_range(n_items, 1, |range| {
        let mut partial = 0.0f64;
        for i in range.clone() {
            partial += smoke_item(i);
        }
        let slot = thread_index().map_or(n_slots - 1, |t| t.min(n_slots - 2));
        counts[slot].fetch_add(range.len(), Ordering::SeqCst);
        *total.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) += partial;
    });
    let sum = total.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
    (sum, counts.into_iter().map(AtomicUsize::into_inner).collect())
}

/// Deliberately slow, deterministic work for [`pool_smoke`].
fn smoke_item(i: usize) -> f64 {
    let mut x = i as f64 + 1.0;
    for _ in 0..2000 {
        x = (x * 1.000_001).sqrt() + 1.0;
    }
    x
}

fn task_count(n_items: usize, min_items_per_task: usize) -> usize {
    let by_size = n_items / min_items_per_task.max(1);
    num_threads().min(by_size).max(1)
}

/// The `t`-th of `n_tasks` near-equal contiguous parts of `0..n_items`.
fn split(n_items: usize, n_tasks: usize, t: usize) -> Range<usize> {
    let base = n_items / n_tasks;
    let extra = n_items % n_tasks;
    let start = t * base + t.min(extra);
    let len = base + usize::from(t < extra);
    start..start + len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn split_covers_every_item_once() {
        for n_items in [0usize, 1, 2, 7, 100] {
            for n_tasks in 1..5 {
                let mut seen = vec![0u8; n_items];
                for t in 0..n_tasks {
                    for i in split(n_items, n_tasks, t) {
                        seen[i] += 1;
                    }
                }
                assert!(seen.iter().all(|&c| c == 1), "n_items={n_items} n_tasks={n_tasks}");
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn pool_smoke_counts_every_item() {
        let (sum, counts) = pool_smoke(37);
        assert_eq!(counts.iter().sum::<usize>(), 37);
        let serial: f64 = (0..37).map(smoke_item).sum();
        assert!((sum - serial).abs() <= 1e-9 * serial.abs());
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn row_blocks_write_every_row() {
        let row_len = 3;
        let mut out = vec![0.0f32; 10 * row_len];
        for_each_row_block(&mut out, row_len, 1, |rows, block| {
            for (local, row) in rows.enumerate() {
                for c in 0..row_len {
                    block[local * row_len + c] = (row * row_len + c) as f32;
                }
            }
        });
        for (i, v) in out.iter().enumerate() {
            assert_eq!(*v, i as f32);
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn balanced_row_blocks_write_every_row_once_in_aligned_tasks() {
        use std::sync::Mutex;
        let row_len = 2;
        for (n_rows, min_rows, row_multiple) in [
            (0, 1, 4),
            (1, 1, 4),
            (10, 1, 4),
            (10, 1, 16),
            (20, 4, 16),
            (37, 4, 16),
            (100, 3, 16),
            (1024, 4, 16),
            (64, 64, 16),
        ] {
            let mut out = vec![-1.0f32; n_rows * row_len];
            let starts = Mutex::new(Vec::new());
            for_each_row_block_balanced(
                &mut out,
                row_len,
                min_rows,
                row_multiple,
                |rows, block| {
                    assert!(!rows.is_empty(), "an empty task");
                    assert_eq!(block.len(), rows.len() * row_len);
                    starts.lock().unwrap().push(rows.start);
                    for (local, row) in rows.enumerate() {
                        for c in 0..row_len {
                            assert_eq!(block[local * row_len + c], -1.0, "row {row} written twice");
                            block[local * row_len + c] = (row * row_len + c) as f32;
                        }
                    }
                },
            );
            for (i, v) in out.iter().enumerate() {
                assert_eq!(*v, i as f32, "n_rows={n_rows}");
            }
            let starts = starts.into_inner().unwrap();
            assert!(
                starts.iter().all(|s| s % row_multiple == 0),
                "n_rows={n_rows}: task starts {starts:?}"
            );
            assert!(
                starts.len() <= (num_threads() * TASKS_PER_THREAD).max(1),
                "n_rows={n_rows}: {} tasks",
                starts.len()
            );
        }
    }
}

//! The matmul engine behind [`super::matmul`]: `out (+)= A · B (+ bias)` for strided views of
//! `A: [M, K]` and `B: [K, N]`, so plain and transposed operands run the same code.
//!
//! Decision record (design and measurements: `docs/design/gemm.md`):
//! * GotoBLAS/BLIS blocking: B packed into `[K][NR]` panels shared by the threads; each thread
//!   packs `MC × KC` blocks of A (16 rows, K-blocks of up to 1024, K cut into equal blocks)
//!   into `[KC][MR]` panels. Loop order: K-block → A block → B panel → A panel → microkernel.
//! * A 4 × 8 microkernel: 8 [`F32x4`] accumulators plus 2 B vectors and 1 broadcast fit the 15
//!   vector registers V8 allocates (it hoists every load of a step above the multiply-adds);
//!   larger tiles spill. Two bumped pointers keep the integer work per step at 4 operations.
//! * Assigning products store their first K-block's tiles (no zeroing pass); ragged edges
//!   compute a padded tile and write back its valid part.
//! * Packing moves whole vectors or 4 × 4 register transposes, never `copy_from_slice`/`fill`
//!   on short runs (each is a `memory.copy`/`memory.fill` call into the engine in wasm).
//! * Threads take rows in up to 4 tasks each, whole A blocks, idle threads taking the next
//!   ([`par::for_each_row_block_balanced`]), since cores may run at different speeds.
//! * Causal attention's products are triangular ([`Triangle`]): tiles above the diagonal are
//!   skipped, or each tile row's contraction stops (starts) at the diagonal.
//! * Packing buffers are thread-local and kept between calls (packed B at most `pack_b_cap`
//!   floats = 8 MiB, packed A `mc · kc` floats = 64 KiB per worker): steady-state calls
//!   allocate nothing.

use std::cell::Cell;
use std::ops::Range;
use std::thread::LocalKey;

use crate::par;
use crate::simd::{F32x4, LANES};

/// Rows of the microkernel tile.
pub(crate) const MR: usize = 4;
/// [`F32x4`] vectors per tile row.
const NV: usize = 2;
/// Columns of the microkernel tile.
pub(crate) const NR: usize = NV * LANES;

/// Cache-blocking parameters. Tests shrink them to hit every block boundary on small shapes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Blocking {
    /// Longest K-block. A product's K is cut into equal blocks of at most `kc` (K = 1500: two
    /// of 750).
    pub kc: usize,
    /// Rows of A packed at once (a multiple of `MR`): the `[mc, kc]` A block stays in L2 (and
    /// the B panel it meets next too).
    pub mc: usize,
    /// Most floats of packed B held at once (it is at least one `[K, NR]` panel).
    pub pack_b_cap: usize,
    /// Least multiply-adds one parallel task gets, so small products stay on one thread.
    pub min_task_macs: usize,
}

/// The blocking the public kernels use.
pub(crate) const BLOCKING: Blocking =
    Blocking { kc: 1024, mc: 4 * MR, pack_b_cap: 1 << 21, min_task_macs: 1 << 18 };

/// A read-only strided matrix: element `(r, c)` is `data[r * rs + c * cs]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct View<'a> {
    /// The stored buffer.
    pub data: &'a [f32],
    /// Row stride.
    pub rs: usize,
    /// Column stride.
    pub cs: usize,
}

/// Structure of a product that lets work be skipped (causal attention). `i` is a row of the
/// output (of one matrix, when batched), `j` a column, `p` the contracted index. Decided per
/// `MR`-row tile, so entries near the diagonal are computed as in a dense product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Triangle {
    /// A dense product.
    Full,
    /// Only `out[i, j]` with `j <= i` is wanted. Tiles wholly above the diagonal are not
    /// written: whatever `out` held there stays.
    OutLower,
    /// `A[i, p] = 0` for `p > i`: each tile row's contraction stops at its diagonal.
    ALower,
    /// `A[i, p] = 0` for `p < i`: each tile row's contraction starts at its diagonal.
    AUpper,
}

impl Triangle {
    /// The contraction range `lo..hi` that tile rows `r0..r0 + MR` need, of `0..k`.
    fn contraction(self, r0: usize, k: usize) -> Range<usize> {
        match self {
            Triangle::ALower => 0..(r0 + MR).min(k),
            Triangle::AUpper => r0.min(k)..k,
            Triangle::Full | Triangle::OutLower => 0..k,
        }
    }

    /// Whether the tile at rows `r0..r0 + MR`, columns from `c0`, is wanted at all.
    fn wants_tile(self, r0: usize, c0: usize) -> bool {
        self != Triangle::OutLower || c0 < r0 + MR
    }
}

/// One product's operands and dims: `A: [m, k]`, `B: [k, n]` (logical shapes of the views).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gemm<'a> {
    /// `A: [m, k]`.
    pub a: View<'a>,
    /// `B: [k, n]`.
    pub b: View<'a>,
    /// Rows of `A` and of the output.
    pub m: usize,
    /// The contracted dimension.
    pub k: usize,
    /// Columns of `B` and of the output.
    pub n: usize,
    /// Work the product's structure lets the engine skip.
    pub triangle: Triangle,
}

thread_local! {
    static PACK_A: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    static PACK_B: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` on a thread-local scratch buffer of `len` floats (contents unspecified). The buffer
/// is moved out while `f` runs, so a nested call on the same thread (rayon work stealing)
/// just gets a fresh one instead of aliasing it.
fn with_scratch<R>(
    key: &'static LocalKey<Cell<Vec<f32>>>,
    len: usize,
    f: impl FnOnce(&mut [f32]) -> R,
) -> R {
    let mut buf = key.take();
    if buf.len() < len {
        buf.resize(len, 0.0);
    }
    let result = f(&mut buf[..len]);
    key.set(buf);
    result
}

/// `out: [m, n]` (`=` or, with `accumulate`, `+=`) `A · B` (`+ bias: [n]` broadcast over rows).
/// Splits rows of `out` over threads. Lengths must already be checked.
pub(crate) fn gemm(
    out: &mut [f32],
    g: Gemm<'_>,
    bias: Option<&[f32]>,
    accumulate: bool,
    blk: &Blocking,
) {
    let Gemm { k, n, .. } = g;
    if n == 0 || g.m == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            init_rows(out, n, 0..n, bias);
        }
        return;
    }
    let nc = column_block(k, blk);
    with_scratch(&PACK_B, k * nc.min(n).next_multiple_of(NR), |packed_b| {
        for j0 in (0..n).step_by(nc) {
            let cols = j0..n.min(j0 + nc);
            let packed = &mut packed_b[..k * cols.len().next_multiple_of(NR)];
            let min_panels = (blk.min_task_macs / (k * NR)).max(1);
            par::for_each_row_block(packed, k * NR, min_panels, |panels, block| {
                pack_b(block, g.b, k, cols.start + panels.start * NR, cols.end);
            });
            let packed: &[f32] = packed;
            let min_rows = (blk.min_task_macs / (k * cols.len())).max(MR);
            // Without a bias the first K-block's tiles are stored over `out` (no zeroing pass).
            let assign = !accumulate && bias.is_none();
            par::for_each_row_block_balanced(out, n, min_rows, blk.mc, |rows, block| {
                if !accumulate && !assign {
                    init_rows(block, n, cols.clone(), bias);
                }
                let b = PackedB { panels: packed, cols: cols.clone() };
                block_product(block, n, rows, g, b, assign, blk);
            });
        }
    });
}

/// [`gemm`] for `batch` independent products laid end to end: `out: [batch, m, n]`, and `g`'s
/// views cover the whole `a: [batch, ..]`, `b: [batch, ..]` buffers. Splits the `batch · m`
/// rows of `out` over threads; each thread packs B for the matrices its rows belong to.
pub(crate) fn gemm_batched(
    out: &mut [f32],
    g: Gemm<'_>,
    batch: usize,
    accumulate: bool,
    blk: &Blocking,
) {
    let Gemm { m, k, n, .. } = g;
    if n == 0 || m == 0 || batch == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            out.fill(0.0);
        }
        return;
    }
    let (a_len, b_len) = (m * k, k * n);
    let nc = column_block(k, blk);
    let min_rows = (blk.min_task_macs / (k * n)).max(MR);
    par::for_each_row_block(out, n, min_rows, |rows, mut block| {
        with_scratch(&PACK_B, k * nc.min(n).next_multiple_of(NR), |packed_b| {
            let mut row = rows.start;
            while row < rows.end {
                // Rows `row..end` of `out` all belong to matrix `bi`.
                let bi = row / m;
                let end = rows.end.min((bi + 1) * m);
                let (mine, rest) = std::mem::take(&mut block).split_at_mut((end - row) * n);
                block = rest;
                let a = View { data: &g.a.data[bi * a_len..][..a_len], ..g.a };
                let b = View { data: &g.b.data[bi * b_len..][..b_len], ..g.b };
                let one = Gemm { a, b, ..g };
                let local = row - bi * m..end - bi * m;
                for j0 in (0..n).step_by(nc) {
                    let cols = j0..n.min(j0 + nc);
                    let packed = &mut packed_b[..k * cols.len().next_multiple_of(NR)];
                    pack_b(packed, b, k, cols.start, cols.end);
                    let b = PackedB { panels: packed, cols };
                    block_product(mine, n, local.clone(), one, b, !accumulate, blk);
                }
                row = end;
            }
        });
    });
}

/// Columns per packed-B block: as many whole panels as fit in `pack_b_cap`, at least one.
fn column_block(k: usize, blk: &Blocking) -> usize {
    ((blk.pack_b_cap / k) / NR).max(1) * NR
}

/// Sets `out[r, cols] = bias[cols]` (or 0) for every row `r` of `out: [rows, n]`.
fn init_rows(out: &mut [f32], n: usize, cols: Range<usize>, bias: Option<&[f32]>) {
    for row in out.chunks_exact_mut(n) {
        let dst = &mut row[cols.clone()];
        match bias {
            Some(bias) => dst.copy_from_slice(&bias[cols.clone()]),
            None => dst.fill(0.0),
        }
    }
}

/// Packs columns `j0..j_end` of `B: [k, ·]` into consecutive `[k, NR]` panels of `dst`.
fn pack_b(dst: &mut [f32], b: View<'_>, k: usize, j0: usize, j_end: usize) {
    for (p, panel) in dst.chunks_exact_mut(k * NR).enumerate() {
        let j = j0 + p * NR;
        // Panel lanes are columns of B, steps are its rows.
        let n_lanes = j_end.saturating_sub(j).min(NR);
        let src = Panel {
            data: b.data,
            lane_stride: b.cs,
            step_stride: b.rs,
            lane0: j,
            n_lanes,
            step0: 0,
            n_steps: k,
        };
        pack_panel::<NR>(panel, src);
    }
}

/// The part of a strided source that [`pack_panel`] packs: `n_lanes` lanes from `lane0` by
/// `n_steps` steps from `step0`, element `(lane, step)` at `data[lane * lane_stride + step *
/// step_stride]`.
#[derive(Clone, Copy)]
struct Panel<'a> {
    data: &'a [f32],
    lane_stride: usize,
    step_stride: usize,
    lane0: usize,
    n_lanes: usize,
    step0: usize,
    n_steps: usize,
}

/// Fills `dst: [n_steps, W]` with `dst[s, w] = data[(lane0 + w) * lane_stride +
/// (step0 + s) * step_stride]` for `w < n_lanes`, and zeros for the padding lanes.
fn pack_panel<const W: usize>(dst: &mut [f32], src: Panel<'_>) {
    let Panel { data, lane_stride, step_stride, lane0, n_lanes, step0, n_steps } = src;
    const { assert!(W % LANES == 0, "panel widths are whole vectors") };
    let dst = &mut dst[..n_steps * W];
    if lane_stride == 1 && n_lanes == W {
        // Lanes contiguous in the source, a whole panel wide: vector moves. (`copy_from_slice`
        // would be a `memory.copy` call per step in WebAssembly, a runtime call for 16 bytes.)
        for (s, d) in dst.chunks_exact_mut(W).enumerate() {
            let src = &data[(step0 + s) * step_stride + lane0..][..W];
            for (d, src) in d.chunks_exact_mut(LANES).zip(src.chunks_exact(LANES)) {
                F32x4::load(src).store(d);
            }
        }
    } else if lane_stride == 1 {
        // A ragged panel: copy the valid lanes, zero the rest (one select per lane, no calls).
        for (s, d) in dst.chunks_exact_mut(W).enumerate() {
            let src = (step0 + s) * step_stride + lane0;
            for (w, d) in d.iter_mut().enumerate() {
                *d = if w < n_lanes { data[src + w] } else { 0.0 };
            }
        }
    } else if step_stride == 1 && n_lanes == W {
        // Steps contiguous, a whole panel wide: 4 steps of 4 lanes at a time, transposed in
        // registers; the last `n_steps % 4` steps one float at a time.
        let whole = n_steps - n_steps % LANES;
        for s0 in (0..whole).step_by(LANES) {
            for g in (0..W).step_by(LANES) {
                let rows = [0, 1, 2, 3]
                    .map(|i| F32x4::load(&data[(lane0 + g + i) * lane_stride + step0 + s0..]));
                for (j, column) in F32x4::transpose4(rows).into_iter().enumerate() {
                    column.store(&mut dst[(s0 + j) * W + g..]);
                }
            }
        }
        for s in whole..n_steps {
            for w in 0..W {
                dst[s * W + w] = data[(lane0 + w) * lane_stride + step0 + s];
            }
        }
    } else {
        // Steps strided, or a ragged panel: read each lane's run, scatter with stride W.
        for w in 0..W {
            if w < n_lanes {
                let base = (lane0 + w) * lane_stride + step0 * step_stride;
                for (s, d) in dst.chunks_exact_mut(W).enumerate() {
                    d[w] = data[base + s * step_stride];
                }
            } else {
                dst.chunks_exact_mut(W).for_each(|d| d[w] = 0.0);
            }
        }
    }
}

/// Columns `cols` of B, packed by [`pack_b`] into `panels: [cols.len() / NR, k, NR]`.
struct PackedB<'a> {
    panels: &'a [f32],
    cols: Range<usize>,
}

/// Adds `A[rows, :] · B[:, cols]` into `out: [rows.len(), n]` (row `rows.start` of A is
/// row 0 of `out`), with B's column block `b.cols` already packed into `b.panels`.
/// With `assign`, the product is written over `out[·, cols]` instead (whatever it held).
/// `g` gives `A`, `k` and the [`Triangle`]; its `B` is the one packed.
fn block_product(
    out: &mut [f32],
    n: usize,
    rows: Range<usize>,
    g: Gemm<'_>,
    b: PackedB<'_>,
    assign: bool,
    blk: &Blocking,
) {
    let Gemm { a, k, triangle, .. } = g;
    let PackedB { panels: packed_b, cols } = b;
    let n_panels_b = cols.len().div_ceil(NR);
    // Equal K-blocks: fewer passes over `out` than full blocks plus a short remainder.
    let kc_max = k.div_ceil(k.div_ceil(blk.kc));
    with_scratch(&PACK_A, blk.mc * kc_max, |packed_a| {
        for p0 in (0..k).step_by(kc_max) {
            let kc = kc_max.min(k - p0);
            for i0 in (0..rows.len()).step_by(blk.mc) {
                let mc = blk.mc.min(rows.len() - i0);
                let n_panels_a = mc.div_ceil(MR);
                for (ip, panel) in packed_a.chunks_exact_mut(kc * MR).take(n_panels_a).enumerate() {
                    let i = rows.start + i0 + ip * MR;
                    // Panel lanes are rows of A, steps are its columns.
                    let n_rows = (rows.end - i).min(MR);
                    let src = Panel {
                        data: a.data,
                        lane_stride: a.rs,
                        step_stride: a.cs,
                        lane0: i,
                        n_lanes: n_rows,
                        step0: p0,
                        n_steps: kc,
                    };
                    pack_panel::<MR>(panel, src);
                }
                for jp in 0..n_panels_b {
                    let b_panel = &packed_b[(jp * k + p0) * NR..][..kc * NR];
                    let c0 = cols.start + jp * NR;
                    let n_cols = (cols.end - c0).min(NR);
                    for ip in 0..n_panels_a {
                        let r0 = i0 + ip * MR;
                        let row = rows.start + r0;
                        if !triangle.wants_tile(row, c0) {
                            continue;
                        }
                        // This tile row's contraction, within the K-block.
                        let span = triangle.contraction(row, k);
                        let (lo, hi) =
                            (span.start.clamp(p0, p0 + kc) - p0, span.end.clamp(p0, p0 + kc) - p0);
                        // The first K-block covers every element once: store there (zeros if
                        // the tile row's contraction lies in later blocks).
                        let store = assign && p0 == 0;
                        if hi == lo && !store {
                            continue;
                        }
                        let a_panel = &packed_a[ip * kc * MR..][..kc * MR];
                        let tile =
                            microkernel(&a_panel[lo * MR..hi * MR], &b_panel[lo * NR..hi * NR]);
                        let at = TileAt { r0, c0, n_rows: (mc + i0 - r0).min(MR), n_cols };
                        add_tile(out, n, at, &tile, store);
                    }
                }
            }
        }
    });
}

/// `Σ_s a_panel[s, r] · b_panel[s, :]` for each of the `MR` rows `r`: the `MR × NR` tile, held
/// in registers. `a_panel: [kc, MR]`, `b_panel: [kc, NR]`.
#[inline(always)]
fn microkernel(a_panel: &[f32], b_panel: &[f32]) -> [[F32x4; NV]; MR] {
    let steps = (a_panel.len() / MR).min(b_panel.len() / NR);
    let mut acc = [[F32x4::zero(); NV]; MR];
    let mut a = a_panel.as_ptr();
    let mut b = b_panel.as_ptr();
    for _ in 0..steps {
        // SAFETY: step s < steps reads a_panel[s * MR..][..MR] and b_panel[s * NR..][..NR],
        // both in bounds by the choice of `steps`; `a` and `b` point at them.
        unsafe {
            let bv: [F32x4; NV] = std::array::from_fn(|v| F32x4::load_ptr(b.add(v * LANES)));
            for (r, acc_row) in acc.iter_mut().enumerate() {
                let av = F32x4::splat(*a.add(r));
                for (acc, &bv) in acc_row.iter_mut().zip(&bv) {
                    *acc = F32x4::mul_add(av, bv, *acc);
                }
            }
            a = a.add(MR);
            b = b.add(NR);
        }
    }
    acc
}

/// Where a tile lands in the output: rows `r0..r0 + n_rows`, columns `c0..c0 + n_cols`
/// (`n_rows ≤ MR`, `n_cols ≤ NR`; less at ragged edges).
#[derive(Clone, Copy)]
struct TileAt {
    r0: usize,
    c0: usize,
    n_rows: usize,
    n_cols: usize,
}

/// `out[r0 + r, c0 + c] += tile[r, c]` (with `store`: `=`) for `r < n_rows`, `c < n_cols`
/// (`out: [·, n]`).
#[inline(always)]
fn add_tile(out: &mut [f32], n: usize, at: TileAt, tile: &[[F32x4; NV]; MR], store: bool) {
    let TileAt { r0, c0, n_rows, n_cols } = at;
    if n_rows == MR && n_cols == NR {
        for (r, acc_row) in tile.iter().enumerate() {
            let row = &mut out[(r0 + r) * n + c0..][..NR];
            for (dst, &acc) in row.chunks_exact_mut(LANES).zip(acc_row) {
                if store {
                    acc.store(dst)
                } else {
                    (F32x4::load(dst) + acc).store(dst)
                }
            }
        }
    } else {
        for (r, acc_row) in tile.iter().enumerate().take(n_rows) {
            let row = &mut out[(r0 + r) * n + c0..][..n_cols];
            let lanes = acc_row.map(F32x4::to_array);
            for (c, dst) in row.iter_mut().enumerate() {
                let x = lanes[c / LANES][c % LANES];
                *dst = if store { x } else { *dst + x };
            }
        }
    }
}

//! The W8A16 linear layer for a few rows (a decoding step, `M ≤` [`super::MAX_ROWS`]), the
//! int8 form of [`crate::kernels::gemv`]: each packed weight row is streamed once (a quarter of
//! float32's bytes) and dotted with the `M` activation rows while it sits in L1, four weight
//! rows at a time; the `N` outputs are split over threads.
//!
//! Shapes: `out: [M, N]`, `rows: [M, K8]` int16 ([`super::quantize_rows`]), `weight: [N, K8]`
//! int8, `bias: [N]`.

use super::tile::tile;
use super::{Int8Weight, QuantRows};
use crate::par::for_each_row_block;

/// Output columns one parallel task computes at least.
const MIN_COLUMNS_PER_TASK: usize = 64;

/// Multiply-adds one parallel task does at least: below this a product stays on one thread.
/// Handing work to the pool costs about as much as a `[1, 768] × [768, 768]` int8 product
/// (0.6 M multiply-adds, ≈ 0.1 ms), so only products well above that (the LM head) split.
const MIN_MACS_PER_TASK: usize = 4 << 20;

/// `out = x̂ · ŵᵀ (+ bias)` for quantised rows; any `M` is correct, large ones are just slower
/// than [`super::matmul::linear_int8_matmul`]. Panics on inconsistent lengths (checked by
/// [`super::linear_int8_infer`]).
pub fn linear_int8_rows(
    out: &mut [f32],
    rows: &QuantRows,
    weight: &Int8Weight,
    bias: Option<&[f32]>,
) {
    let (m, n) = (rows.m, weight.n());
    assert_eq!(out.len(), m * n, "linear_int8_rows: out");
    if m == 0 || n == 0 {
        return;
    }
    let finish = |t: f32, i: usize, j: usize| t * rows.scales[i] + bias.map_or(0.0, |b| b[j]);
    // Columns are computed into `[N, M]` (so threads own disjoint rows), then transposed.
    let mut columns = vec![0.0f32; n * m];
    let min_columns = MIN_COLUMNS_PER_TASK.max(MIN_MACS_PER_TASK / (m * rows.k8).max(1));
    for_each_row_block(&mut columns, m, min_columns, |cols, block| {
        let mut j = cols.start;
        while j < cols.end {
            let at = (j - cols.start) * m;
            if j + 4 <= cols.end {
                for i in 0..m {
                    let [t] = tile::<1, 4>(rows, i, weight, j);
                    for (c, &v) in t.iter().enumerate() {
                        block[at + c * m + i] = finish(v, i, j + c);
                    }
                }
                j += 4;
            } else {
                for i in 0..m {
                    let [[v]] = tile::<1, 1>(rows, i, weight, j);
                    block[at + i] = finish(v, i, j);
                }
                j += 1;
            }
        }
    });
    for (j, col) in columns.chunks_exact(m).enumerate() {
        for (i, &value) in col.iter().enumerate() {
            out[i * n + j] = value;
        }
    }
}

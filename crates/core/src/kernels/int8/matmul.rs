//! The W8A16 linear layer for many rows (a prompt, a batch of sentences): `4 × 2` register
//! tiles (8 `i32x4` accumulators, 4 activation and 2 widened weight loads per 8 values of K),
//! columns in blocks of [`COLUMN_BLOCK`] so a block's int8 weights stay in L2 while every row
//! quad of a task passes over them; rows are split over threads.
//!
//! Shapes: `out: [M, N]`, `rows: [M, K8]` int16 ([`super::quantize_rows`]), `weight: [N, K8]`
//! int8, `bias: [N]`.

use super::tile::tile;
use super::{Int8Weight, QuantRows};
use crate::par::for_each_row_block_balanced;

/// Weight rows per cache block (64 KiB of int8 at K = 1024).
const COLUMN_BLOCK: usize = 64;
/// Rows per register tile.
const TILE_ROWS: usize = 4;
/// Columns per register tile.
const TILE_COLS: usize = 2;

/// `out = x̂ · ŵᵀ (+ bias)` for quantised rows. Panics on inconsistent lengths (checked by
/// [`super::linear_int8_infer`]).
pub fn linear_int8_matmul(
    out: &mut [f32],
    rows: &QuantRows,
    weight: &Int8Weight,
    bias: Option<&[f32]>,
) {
    let n = weight.n();
    assert_eq!(out.len(), rows.m * n, "linear_int8_matmul: out");
    if n == 0 {
        return;
    }
    let finish = |t: f32, i: usize, j: usize| t * rows.scales[i] + bias.map_or(0.0, |b| b[j]);
    for_each_row_block_balanced(out, n, TILE_ROWS, TILE_ROWS, |task_rows, block| {
        for j0 in (0..n).step_by(COLUMN_BLOCK) {
            let j_end = (j0 + COLUMN_BLOCK).min(n);
            let mut i = task_rows.start;
            while i < task_rows.end {
                let at = (i - task_rows.start) * n;
                if i + TILE_ROWS <= task_rows.end {
                    let mut j = j0;
                    while j < j_end {
                        if j + TILE_COLS <= j_end {
                            let t = tile::<TILE_ROWS, TILE_COLS>(rows, i, weight, j);
                            for (r, t_row) in t.iter().enumerate() {
                                for (c, &v) in t_row.iter().enumerate() {
                                    block[at + r * n + j + c] = finish(v, i + r, j + c);
                                }
                            }
                            j += TILE_COLS;
                        } else {
                            let t = tile::<TILE_ROWS, 1>(rows, i, weight, j);
                            for (r, [v]) in t.iter().enumerate() {
                                block[at + r * n + j] = finish(*v, i + r, j);
                            }
                            j += 1;
                        }
                    }
                    i += TILE_ROWS;
                } else {
                    for j in j0..j_end {
                        let [[v]] = tile::<1, 1>(rows, i, weight, j);
                        block[at + j] = finish(v, i, j);
                    }
                    i += 1;
                }
            }
        }
    });
}

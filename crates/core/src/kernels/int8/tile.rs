//! The W8A16 microkernel: an `R × C` tile of dot products between int16 activation rows and
//! int8 weight rows, every i32 lane converted to f32 at the end of each segment (a scale block,
//! at most [`SEGMENT`] values of K: the overflow bound of the module doc).

use super::lanes::{I16x8, I32x4};
use super::{Int8Weight, QuantRows, SEGMENT};
use crate::simd::F32x4;
use core::array::from_fn;

/// `t[r][c] = Σ_b scales[j0 + c, b] · Σ_{k ∈ b} qx[i0 + r, k] · q[j0 + c, k]` for `r < R`,
/// `c < C`: the product before the activation scale and the bias.
/// Panics unless rows `i0..i0 + R` and weight rows `j0..j0 + C` exist and the strides agree.
#[inline(always)]
pub(super) fn tile<const R: usize, const C: usize>(
    rows: &QuantRows,
    i0: usize,
    weight: &Int8Weight,
    j0: usize,
) -> [[f32; C]; R] {
    let (k8, nb, block) = (weight.k8(), weight.n_blocks(), weight.block());
    assert!(rows.k8 == k8 && i0 + R <= rows.m && j0 + C <= weight.n(), "int8 tile out of range");
    let step = block.min(SEGMENT);
    let x: [&[i16]; R] = from_fn(|r| &rows.q[(i0 + r) * k8..(i0 + r + 1) * k8]);
    let w: [&[i8]; C] = from_fn(|c| &weight.q()[(j0 + c) * k8..(j0 + c + 1) * k8]);
    let scales: [&[f32]; C] = from_fn(|c| &weight.scales()[(j0 + c) * nb..(j0 + c + 1) * nb]);
    let mut f = [[F32x4::zero(); C]; R];
    let mut start = 0;
    while start < k8 {
        let end = (start + step).min(k8);
        let mut acc = [[I32x4::zero(); C]; R];
        let mut p = start;
        while p < end {
            // SAFETY: every row slice has `k8` elements and `p + 8 <= end <= k8` (`k8`, `step`
            // and `start` are multiples of 8), so 8 elements from `p` are in bounds.
            let xs: [I16x8; R] = from_fn(|r| unsafe { I16x8::load(x[r].as_ptr().add(p)) });
            // SAFETY: as above, for the weight rows.
            let ws: [I16x8; C] = from_fn(|c| unsafe { I16x8::load_widen(w[c].as_ptr().add(p)) });
            for (acc_row, &xr) in acc.iter_mut().zip(&xs) {
                for (a, &wc) in acc_row.iter_mut().zip(&ws) {
                    *a = a.dot_add(xr, wc);
                }
            }
            p += 8;
        }
        let b = start / block;
        for (f_row, acc_row) in f.iter_mut().zip(&acc) {
            for ((fc, a), s) in f_row.iter_mut().zip(acc_row).zip(&scales) {
                *fc = a.scale_add(s[b], *fc);
            }
        }
        start = end;
    }
    f.map(|row| row.map(F32x4::horizontal_sum))
}

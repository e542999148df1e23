//! Moving heads between the row layout of the projections (`[B, T, S]`, head `h` of a
//! `C`-wide block starting at column `col` is columns `col + h·D .. col + (h+1)·D`) and the
//! per-head layout of the attention kernel (`[B, H, T, D]`), plus dropout masks.
//!
//! The two moves are each other's transpose, so each is the other's backward. Each moves one
//! head row of `D` floats at a time with [`copy_run`]: `copy_from_slice` would be a
//! `memory.copy` call into the engine per row in WebAssembly (1.6% of a GPT training step).

use crate::simd::{F32x4, LANES};

/// Sizes of a head move.
#[derive(Clone, Copy, Debug)]
pub struct HeadDims {
    /// Batch `B`.
    pub b: usize,
    /// Sequence `T`.
    pub t: usize,
    /// Heads `H`.
    pub h: usize,
    /// Head dim `D`.
    pub d: usize,
    /// Row length `S` of the `[B, T, S]` side.
    pub row_len: usize,
}

/// `heads[b, h, t, :] = rows[b, t, col + h·D ..][..D]`. `heads: [B, H, T, D]`, `rows: [B, T, S]`.
pub fn rows_to_heads(heads: &mut [f32], rows: &[f32], col: usize, dims: HeadDims) {
    let HeadDims { b, t, h, d, row_len } = dims;
    for bb in 0..b {
        for hh in 0..h {
            for tt in 0..t {
                let src = (bb * t + tt) * row_len + col + hh * d;
                let dst = ((bb * h + hh) * t + tt) * d;
                copy_run(&mut heads[dst..dst + d], &rows[src..src + d]);
            }
        }
    }
}

/// `rows[b, t, col + h·D ..][..D] = heads[b, h, t, :]` (the transpose of [`rows_to_heads`]);
/// other columns of `rows` are untouched. `rows: [B, T, S]`, `heads: [B, H, T, D]`.
pub fn heads_to_rows(rows: &mut [f32], heads: &[f32], col: usize, dims: HeadDims) {
    let HeadDims { b, t, h, d, row_len } = dims;
    for bb in 0..b {
        for hh in 0..h {
            for tt in 0..t {
                let dst = (bb * t + tt) * row_len + col + hh * d;
                let src = ((bb * h + hh) * t + tt) * d;
                copy_run(&mut rows[dst..dst + d], &heads[src..src + d]);
            }
        }
    }
}

/// `dst = src` (equal lengths) in whole [`F32x4`] vectors, four per step, and the last
/// `len % 16` floats without a loop. (A loop moving one vector or one float per step is turned
/// back into `memory.copy` by LLVM.)
#[inline(always)]
fn copy_run(dst: &mut [f32], src: &[f32]) {
    const STEP: usize = 4 * LANES;
    let split = dst.len() - dst.len() % STEP;
    let (body, rest) = dst.split_at_mut(split);
    for (d, s) in body.chunks_exact_mut(STEP).zip(src.chunks_exact(STEP)) {
        let v = [0, 1, 2, 3].map(|u| F32x4::load(&s[u * LANES..]));
        for (u, v) in v.into_iter().enumerate() {
            v.store(&mut d[u * LANES..]);
        }
    }
    let src = &src[split..];
    let vectors = rest.len() / LANES;
    for u in 0..3 {
        if u < vectors {
            F32x4::load(&src[u * LANES..]).store(&mut rest[u * LANES..]);
        }
    }
    let whole = vectors * LANES;
    for u in 0..LANES - 1 {
        if whole + u < rest.len() {
            rest[whole + u] = src[whole + u];
        }
    }
}

/// Inverted dropout: `mask[i] = 1/(1−p)` with probability `1−p`, else 0. Element `i` draws
/// from a hash of `(seed, site, offset + i)` alone, so a shard of a batch (rows starting at
/// element `offset`) gets exactly the masks the whole batch would. `mask: [N]`.
pub fn dropout_mask(mask: &mut [f32], p: f32, seed: u64, site: u64, offset: usize) {
    let stream = seed ^ site.wrapping_mul(0xD1B5_4A32_D192_ED03);
    let keep = 1.0 / (1.0 - p);
    let threshold = (f64::from(p) * 4_294_967_296.0) as u64;
    for (i, m) in mask.iter_mut().enumerate() {
        let mut z =
            stream.wrapping_add(((offset + i) as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        *m = if (z >> 32) < threshold { 0.0 } else { keep };
    }
}

/// `x ⊙= mask` (forward and backward of dropout alike). `x, mask: [N]`.
pub fn apply_mask(x: &mut [f32], mask: &[f32]) {
    for (value, &m) in x.iter_mut().zip(mask) {
        *value *= m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_round_trip() {
        let dims = HeadDims { b: 2, t: 3, h: 2, d: 2, row_len: 12 };
        let rows: Vec<f32> = (0..2 * 3 * 12).map(|x| x as f32).collect();
        let mut heads = vec![0.0; 2 * 2 * 3 * 2];
        rows_to_heads(&mut heads, &rows, 4, dims);
        // b = 0, h = 1, t = 2: row 2, columns 4 + 2 .. 4 + 4.
        assert_eq!(&heads[10..12], &[2.0 * 12.0 + 6.0, 2.0 * 12.0 + 7.0]); // ((0·2 + 1)·3 + 2)·2 = 10
        let mut back = vec![-1.0; rows.len()];
        heads_to_rows(&mut back, &heads, 4, dims);
        for (i, (&got, &want)) in back.iter().zip(&rows).enumerate() {
            let col = i % 12;
            assert_eq!(got, if (4..8).contains(&col) { want } else { -1.0 });
        }
    }

    /// Every head width around the 4- and 16-float steps of `copy_run` moves exactly its
    /// columns, both ways.
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn head_moves_are_exact_for_every_width() {
        for d in [1, 3, 4, 5, 8, 15, 16, 17, 20, 31, 32, 35] {
            let (b, t, h, col) = (2, 3, 2, 1);
            let row_len = col + h * d + 2;
            let dims = HeadDims { b, t, h, d, row_len };
            let rows: Vec<f32> = (0..b * t * row_len).map(|x| x as f32).collect();
            let mut heads = vec![f32::NAN; b * h * t * d];
            rows_to_heads(&mut heads, &rows, col, dims);
            for (i, &got) in heads.iter().enumerate() {
                let (bb, hh, tt, dd) = (i / (h * t * d), i / (t * d) % h, i / d % t, i % d);
                assert_eq!(
                    got,
                    rows[(bb * t + tt) * row_len + col + hh * d + dd],
                    "d={d} heads[{i}]"
                );
            }
            let mut back = vec![-1.0; rows.len()];
            heads_to_rows(&mut back, &heads, col, dims);
            for (i, (&got, &want)) in back.iter().zip(&rows).enumerate() {
                let inside = (col..col + h * d).contains(&(i % row_len));
                assert_eq!(got, if inside { want } else { -1.0 }, "d={d} rows[{i}]");
            }
        }
    }

    #[test]
    fn dropout_keeps_about_1_minus_p_and_rescales() {
        let mut mask = vec![0.0; 100_000];
        dropout_mask(&mut mask, 0.25, 7, 3, 0);
        let kept = mask.iter().filter(|&&m| m != 0.0).count() as f64 / mask.len() as f64;
        assert!((kept - 0.75).abs() < 0.01, "kept {kept}");
        assert!(mask.iter().all(|&m| m == 0.0 || (m - 1.0 / 0.75).abs() < 1e-6));
        let mut again = vec![0.0; 100_000];
        dropout_mask(&mut again, 0.25, 7, 3, 0);
        assert_eq!(mask, again);
        // a shard starting at element 1000 gets the same masks as the whole
        let mut shard = vec![0.0; 500];
        dropout_mask(&mut shard, 0.25, 7, 3, 1000);
        assert_eq!(&shard[..], &mask[1000..1500]);
    }
}

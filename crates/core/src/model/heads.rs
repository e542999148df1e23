//! Moving heads between the row layout of the projections (`[B, T, S]`, head `h` of a
//! `C`-wide block starting at column `col` is columns `col + h·D .. col + (h+1)·D`) and the
//! per-head layout of the attention kernel (`[B, H, T, D]`), plus dropout masks.
//!
//! The two moves are each other's transpose, so each is the other's backward.

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
                heads[dst..dst + d].copy_from_slice(&rows[src..src + d]);
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
                rows[dst..dst + d].copy_from_slice(&heads[src..src + d]);
            }
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
        let mut z = stream.wrapping_add(((offset + i) as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
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

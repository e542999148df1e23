//! Fixed tables for the positional options that are not plain parameters: the sinusoidal
//! encoding, ALiBi's per-head distance penalty, and T5's bucketed relative-position bias
//! (forward: table → `[H, T, T]` score bias; backward: scatter-add of the bias gradient back
//! into the table).
//!
//! Shapes: `table: [num_buckets, H]`, `bias, dbias: [H, T, T]` (query row `i`, key column `j`).

/// `pe[pos, 2i] = sin(pos / 10000^(2i/C))`, `pe[pos, 2i+1] = cos(…)`: `[positions, C]`.
pub fn sinusoid_table(positions: usize, c: usize) -> Vec<f32> {
    let mut table = vec![0.0f32; positions * c];
    for (pos, row) in table.chunks_exact_mut(c.max(1)).enumerate() {
        sinusoid_row(row, pos);
    }
    table
}

/// One row of [`sinusoid_table`]: `row: [C]` for position `pos` (any position, for decoding
/// past the table).
pub fn sinusoid_row(row: &mut [f32], pos: usize) {
    let c = row.len();
    for (i, value) in row.iter_mut().enumerate() {
        let pair = (i / 2) as f64;
        let angle = pos as f64 / 10000f64.powf(2.0 * pair / c as f64);
        *value = if i % 2 == 0 { angle.sin() } else { angle.cos() } as f32;
    }
}

/// ALiBi slopes for `n_head` heads: the geometric sequence `2^(−8h/H)` for a power-of-two `H`,
/// and for other `H` the slopes of the next lower power of two followed by every other slope
/// of twice that (Press et al.'s reference recipe).
pub fn alibi_slopes(n_head: usize) -> Vec<f32> {
    fn power_of_two(n: usize) -> Vec<f64> {
        let start = 2f64.powf(-8.0 / n as f64);
        (1..=n).map(|h| start.powi(h as i32)).collect()
    }
    let closest = 1usize << (usize::BITS - 1 - n_head.max(1).leading_zeros());
    let mut slopes = power_of_two(closest);
    if closest < n_head {
        let extra = power_of_two(2 * closest);
        slopes.extend(extra.iter().step_by(2).take(n_head - closest));
    }
    slopes.into_iter().map(|s| s as f32).collect()
}

/// `bias[h, i, j] = −slope_h · |i − j|` (with a causal mask only `j ≤ i` matters).
/// `bias: [H, T, T]`, `slopes: [H]`.
pub fn alibi_bias(bias: &mut [f32], slopes: &[f32], t: usize) {
    for (head, &slope) in bias.chunks_exact_mut(t * t).zip(slopes) {
        for (i, row) in head.chunks_exact_mut(t).enumerate() {
            for (j, value) in row.iter_mut().enumerate() {
                *value = -slope * i.abs_diff(j) as f32;
            }
        }
    }
}

/// T5's bucket of the relative position `rel = j − i` (key minus query). Bidirectional: half
/// the buckets for each sign; causal: only `rel ≤ 0` matters. Within a direction, half the
/// buckets are exact small distances and the rest grow logarithmically up to `max_distance`.
pub fn relative_bucket(rel: isize, causal: bool, num_buckets: usize, max_distance: usize) -> usize {
    let (mut n, mut bucket) = (num_buckets, 0usize);
    let distance = if causal {
        (-rel).max(0) as usize
    } else {
        n /= 2;
        if rel > 0 {
            bucket += n;
        }
        rel.unsigned_abs()
    };
    let max_exact = n / 2;
    if distance < max_exact {
        return bucket + distance;
    }
    let log_ratio =
        (distance as f64 / max_exact as f64).ln() / (max_distance as f64 / max_exact as f64).ln();
    let large = max_exact + (log_ratio * (n - max_exact) as f64) as usize;
    bucket + large.min(n - 1)
}

/// The geometry of a relative-position bias.
#[derive(Clone, Copy, Debug)]
pub struct RelativeDims {
    /// Sequence length `T`.
    pub t: usize,
    /// Heads `H`.
    pub h: usize,
    /// Causal (one direction of buckets) or bidirectional.
    pub causal: bool,
    /// Rows of the table.
    pub num_buckets: usize,
    /// Distances at or beyond share the last bucket.
    pub max_distance: usize,
}

impl RelativeDims {
    fn bucket(&self, i: usize, j: usize) -> usize {
        relative_bucket(j as isize - i as isize, self.causal, self.num_buckets, self.max_distance)
    }
}

/// `bias[h, i, j] = table[bucket(j − i), h]`. `bias: [H, T, T]`, `table: [num_buckets, H]`.
pub fn relative_bias_forward(bias: &mut [f32], table: &[f32], dims: RelativeDims) {
    let RelativeDims { t, h, .. } = dims;
    for i in 0..t {
        for j in 0..t {
            let bucket = dims.bucket(i, j);
            for head in 0..h {
                bias[(head * t + i) * t + j] = table[bucket * h + head];
            }
        }
    }
}

/// Gradient of [`relative_bias_forward`], ADDED: `dtable[bucket(j − i), h] += dbias[h, i, j]`.
pub fn relative_bias_backward(dtable: &mut [f32], dbias: &[f32], dims: RelativeDims) {
    let RelativeDims { t, h, .. } = dims;
    for i in 0..t {
        for j in 0..t {
            let bucket = dims.bucket(i, j);
            for head in 0..h {
                dtable[bucket * h + head] += dbias[(head * t + i) * t + j];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alibi_slopes_match_the_paper() {
        // H = 8: 1/2, 1/4, …, 1/256.
        let slopes = alibi_slopes(8);
        for (h, s) in slopes.iter().enumerate() {
            assert!((s - 0.5f32.powi(h as i32 + 1)).abs() < 1e-7);
        }
        // H = 6: the 4-head slopes, then every other 8-head slope.
        let six = alibi_slopes(6);
        let (four, eight) = (alibi_slopes(4), alibi_slopes(8));
        assert_eq!(&six[..4], &four[..]);
        assert_eq!(six[4], eight[0]);
        assert_eq!(six[5], eight[2]);
    }

    #[test]
    fn relative_buckets_are_exact_near_and_saturate_far() {
        // Bidirectional, 32 buckets, max distance 128 (T5 defaults).
        assert_eq!(relative_bucket(0, false, 32, 128), 0);
        assert_eq!(relative_bucket(-3, false, 32, 128), 3);
        assert_eq!(relative_bucket(3, false, 32, 128), 19);
        assert_eq!(relative_bucket(-1000, false, 32, 128), 15);
        assert_eq!(relative_bucket(1000, false, 32, 128), 31);
        // Causal: future keys fold into bucket 0; buckets never decrease with distance.
        assert_eq!(relative_bucket(5, true, 32, 128), 0);
        let mut last = 0;
        for d in 0..300 {
            let b = relative_bucket(-d, true, 32, 128);
            assert!(b >= last && b < 32);
            last = b;
        }
        assert_eq!(last, 31);
    }

    #[test]
    fn sinusoid_starts_with_sin0_cos0() {
        let table = sinusoid_table(3, 4);
        assert_eq!(&table[..4], &[0.0, 1.0, 0.0, 1.0]);
        assert!((table[4] - 1f32.sin()).abs() < 1e-6);
    }
}

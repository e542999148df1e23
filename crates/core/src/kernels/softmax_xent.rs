//! Softmax over the last dimension `V`, and the fused softmax + cross-entropy loss.
//!
//! Math, per row `x: [V]` (llm.c `softmax_forward` / `crossentropy_forward` /
//! `crossentropy_softmax_backward`):
//! - softmax: `probs = exp(x - max x) / Σ exp(x - max x)` (the max is subtracted so `exp`
//!   never overflows); backward `dlogits = probs · (dprobs - Σ_j probs_j · dprobs_j)`.
//! - cross-entropy with target `t`: `loss = -log probs[t] = logsumexp(x) - x[t]`, computed
//!   from `logsumexp` when `probs[t]` underflows, so huge logit gaps give a finite loss. The
//!   returned loss is the mean over rows whose target is not `ignore_index` (0 if every row
//!   is ignored). Backward: `dlogits = (probs - onehot(t)) · scale`, with `scale = 1 / count`
//!   of non-ignored rows for that mean ([`crossentropy_mean_scale`]); ignored rows get 0.
//!
//! Shapes: `logits`, `probs`, `dprobs`, `dlogits: [N, V]` (`N = B·T` rows), `losses`,
//! `targets: [N]` (`i32`, so a negative `ignore_index` such as `-1` or `-100` works).
//!
//! Accumulation: both backwards ASSIGN `dlogits` (an activation gradient).
//!
//! Rows are split over [`crate::par`] threads once `N·V` is large. `mod reference` holds the
//! f64 spec.

use crate::error::{check_len, checked_product, Error, Result};
use crate::math::fast_exp;
use crate::par::for_each_row_block;
use crate::simd::{F32x4, LANES};

/// Elements of work below which a pass runs on the calling thread only.
const PAR_MIN_ELEMS: usize = 1 << 14;

/// The sizes of a softmax over the last dimension: `[rows, vocab]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoftmaxDims {
    /// `N`: independent rows (usually `B·T`).
    pub rows: usize,
    /// `V`: the softmax (last) dimension, e.g. the vocabulary. Must be > 0.
    pub vocab: usize,
}

impl SoftmaxDims {
    /// `N, V`.
    pub fn new(rows: usize, vocab: usize) -> Self {
        Self { rows, vocab }
    }

    /// Checks `V > 0` (else [`Error::InvalidArgument`]) and the lengths of `[N, V]` buffers
    /// (`full`) and `[N]` buffers (`per_row`), naming the offender as `"{op}: {name}"` in
    /// [`Error::Shape`].
    pub fn check(&self, op: &str, full: &[(&str, usize)], per_row: &[(&str, usize)]) -> Result<()> {
        if self.vocab == 0 {
            return Err(Error::InvalidArgument(format!("{op}: vocab (V) must be > 0")));
        }
        let numel = checked_product(op, &[self.rows, self.vocab])?;
        for (expected, list) in [(numel, full), (self.rows, per_row)] {
            for &(name, len) in list {
                check_len(&format!("{op}: {name}"), expected, len)?;
            }
        }
        Ok(())
    }

    fn min_rows_per_task(&self) -> usize {
        (PAR_MIN_ELEMS / self.vocab.max(1)).max(1)
    }
}

/// The target class of each row, or `None` for an ignored row. Errors on a target outside
/// `0..vocab` that is not `ignore_index`, naming the row and the value.
fn row_targets(
    op: &str,
    targets: &[i32],
    ignore_index: Option<i32>,
    vocab: usize,
) -> Result<Vec<Option<usize>>> {
    let valid = |t: i32| usize::try_from(t).ok().filter(|&t| t < vocab);
    targets
        .iter()
        .enumerate()
        .map(|(row, &t)| match valid(t) {
            _ if Some(t) == ignore_index => Ok(None),
            Some(t) => Ok(Some(t)),
            None => Err(Error::InvalidArgument(format!(
                "{op}: target {t} at row {row} is outside 0..{vocab} and not the ignore index \
                 ({ignore_index:?})"
            ))),
        })
        .collect()
}

/// `1 / (number of rows whose target is not ignore_index)`, or 0 when every row is ignored:
/// the `scale` that makes [`crossentropy_backward`] the gradient of the mean loss that
/// [`crossentropy_forward`] returns.
pub fn crossentropy_mean_scale(targets: &[i32], ignore_index: Option<i32>) -> f32 {
    let count = targets.iter().filter(|&&t| Some(t) != ignore_index).count();
    if count == 0 {
        0.0
    } else {
        1.0 / count as f32
    }
}

/// `probs = softmax(logits)` for one row; returns `logsumexp(logits)`.
fn softmax_row(probs: &mut [f32], logits: &[f32]) -> f32 {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for (p, &x) in probs.iter_mut().zip(logits) {
        *p = fast_exp(x - max);
        sum += *p;
    }
    // sum >= 1 (the max term is exp(0)), so the division is safe.
    let inv = F32x4::splat(1.0 / sum);
    let mut chunks = probs.chunks_exact_mut(LANES);
    for c in &mut chunks {
        (F32x4::load(c) * inv).store(c);
    }
    chunks.into_remainder().iter_mut().for_each(|p| *p /= sum);
    max + sum.ln()
}

/// `probs = softmax(logits)` over the last dimension.
///
/// `probs: [N, V]` (assigned), `logits: [N, V]`.
pub fn softmax_forward(probs: &mut [f32], logits: &[f32], dims: SoftmaxDims) -> Result<()> {
    dims.check("softmax", &[("probs", probs.len()), ("logits", logits.len())], &[])?;
    let v = dims.vocab;
    for_each_row_block(probs, v, dims.min_rows_per_task(), |rows, block| {
        for (row, p) in rows.zip(block.chunks_exact_mut(v)) {
            softmax_row(p, &logits[row * v..][..v]);
        }
    });
    Ok(())
}

/// Gradient of [`softmax_forward`]: ASSIGNS `dlogits`.
///
/// `dlogits: [N, V]`, `dprobs: [N, V]`, `probs: [N, V]` from the forward.
pub fn softmax_backward(
    dlogits: &mut [f32],
    dprobs: &[f32],
    probs: &[f32],
    dims: SoftmaxDims,
) -> Result<()> {
    let full = [("dlogits", dlogits.len()), ("dprobs", dprobs.len()), ("probs", probs.len())];
    dims.check("softmax", &full, &[])?;
    let v = dims.vocab;
    for_each_row_block(dlogits, v, dims.min_rows_per_task(), |rows, block| {
        for (row, dl) in rows.zip(block.chunks_exact_mut(v)) {
            let (p, dp) = (&probs[row * v..][..v], &dprobs[row * v..][..v]);
            // probs_i = exp(x_i) / Σ_j exp(x_j)  →  dx_i = p_i · (dp_i - Σ_j p_j · dp_j)
            let mut acc = F32x4::zero();
            let mut i = 0;
            while i + LANES <= v {
                acc = F32x4::mul_add(F32x4::load(&p[i..]), F32x4::load(&dp[i..]), acc);
                i += LANES;
            }
            let dot = acc.horizontal_sum() + (i..v).map(|j| p[j] * dp[j]).sum::<f32>();
            let neg_dot = F32x4::splat(-dot);
            let mut i = 0;
            while i + LANES <= v {
                let g = (F32x4::load(&dp[i..]) + neg_dot) * F32x4::load(&p[i..]);
                g.store(&mut dl[i..]);
                i += LANES;
            }
            for j in i..v {
                dl[j] = p[j] * (dp[j] - dot);
            }
        }
    });
    Ok(())
}

/// Softmax + cross-entropy: `probs = softmax(logits)`, `losses[n] = -log probs[n, targets[n]]`
/// (0 for rows whose target is `ignore_index`); returns the mean loss over the other rows
/// (0 if there are none).
///
/// `losses: [N]` (assigned), `probs: [N, V]` (assigned, saved for the backward),
/// `logits: [N, V]`, `targets: [N]` in `0..V` or equal to `ignore_index`; any other target is
/// an [`Error::InvalidArgument`] naming its row and value (checked before anything is written).
pub fn crossentropy_forward(
    losses: &mut [f32],
    probs: &mut [f32],
    logits: &[f32],
    targets: &[i32],
    ignore_index: Option<i32>,
    dims: SoftmaxDims,
) -> Result<f32> {
    let full = [("probs", probs.len()), ("logits", logits.len())];
    dims.check("crossentropy", &full, &[("losses", losses.len()), ("targets", targets.len())])?;
    let targets = row_targets("crossentropy", targets, ignore_index, dims.vocab)?;
    softmax_forward(probs, logits, dims)?;
    let v = dims.vocab;
    let (mut sum, mut count) = (0.0f64, 0usize);
    for (row, (loss, target)) in losses.iter_mut().zip(&targets).enumerate() {
        *loss = match *target {
            None => 0.0,
            Some(t) => {
                count += 1;
                let p = probs[row * v + t];
                if p >= f32::MIN_POSITIVE {
                    -p.ln()
                } else {
                    // probs[t] underflowed: loss = logsumexp(x) - x[t], which stays finite.
                    let x = &logits[row * v..][..v];
                    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let sum_exp: f32 = x.iter().map(|&x| (x - max).exp()).sum();
                    (max - x[t]) + sum_exp.ln()
                }
            }
        };
        sum += f64::from(*loss);
    }
    Ok(if count == 0 { 0.0 } else { (sum / count as f64) as f32 })
}

/// Gradient of the loss `scale · Σ_n losses[n]` w.r.t. the logits of
/// [`crossentropy_forward`]: ASSIGNS `dlogits = (probs - onehot(target)) · scale` per row,
/// and 0 for rows whose target is `ignore_index`. Pass
/// `scale = `[`crossentropy_mean_scale`]`(targets, ignore_index)` for the returned mean loss.
///
/// `dlogits: [N, V]`, `probs: [N, V]` from the forward, `targets: [N]` as in the forward
/// (same errors), `scale` finite.
pub fn crossentropy_backward(
    dlogits: &mut [f32],
    probs: &[f32],
    targets: &[i32],
    ignore_index: Option<i32>,
    dims: SoftmaxDims,
    scale: f32,
) -> Result<()> {
    let full = [("dlogits", dlogits.len()), ("probs", probs.len())];
    dims.check("crossentropy", &full, &[("targets", targets.len())])?;
    let targets = row_targets("crossentropy", targets, ignore_index, dims.vocab)?;
    if !scale.is_finite() {
        return Err(Error::InvalidArgument(format!("crossentropy: scale {scale} is not finite")));
    }
    let v = dims.vocab;
    let s = F32x4::splat(scale);
    for_each_row_block(dlogits, v, dims.min_rows_per_task(), |rows, block| {
        for (row, dl) in rows.zip(block.chunks_exact_mut(v)) {
            let Some(t) = targets[row] else {
                dl.fill(0.0);
                continue;
            };
            // loss = -log probs[t], probs = softmax(x)  →  dx = (probs - onehot(t)) · scale
            let p = &probs[row * v..][..v];
            let mut i = 0;
            while i + LANES <= v {
                (F32x4::load(&p[i..]) * s).store(&mut dl[i..]);
                i += LANES;
            }
            for j in i..v {
                dl[j] = p[j] * scale;
            }
            dl[t] = (p[t] - 1.0) * scale;
        }
    });
    Ok(())
}

pub mod reference {
    //! The spec: plain loops in f64, one row at a time.

    use super::{row_targets, SoftmaxDims};
    use crate::error::{Error, Result};

    /// `(softmax(x), logsumexp(x))` of one row, in f64.
    fn softmax_row(x: &[f32]) -> (Vec<f64>, f64) {
        let max = x.iter().map(|&v| f64::from(v)).fold(f64::NEG_INFINITY, f64::max);
        let exps: Vec<f64> = x.iter().map(|&v| (f64::from(v) - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        (exps.iter().map(|e| e / sum).collect(), max + sum.ln())
    }

    /// Reference for [`super::softmax_forward`] (same buffers, shapes and errors).
    pub fn softmax_forward_ref(probs: &mut [f32], logits: &[f32], dims: SoftmaxDims) -> Result<()> {
        dims.check("softmax", &[("probs", probs.len()), ("logits", logits.len())], &[])?;
        let v = dims.vocab;
        for n in 0..dims.rows {
            let (p, _) = softmax_row(&logits[n * v..][..v]);
            for (out, p) in probs[n * v..][..v].iter_mut().zip(p) {
                *out = p as f32;
            }
        }
        Ok(())
    }

    /// Reference for [`super::softmax_backward`]: assigns `dlogits`.
    pub fn softmax_backward_ref(
        dlogits: &mut [f32],
        dprobs: &[f32],
        probs: &[f32],
        dims: SoftmaxDims,
    ) -> Result<()> {
        let full = [("dlogits", dlogits.len()), ("dprobs", dprobs.len()), ("probs", probs.len())];
        dims.check("softmax", &full, &[])?;
        let v = dims.vocab;
        for n in 0..dims.rows {
            let at = |j: usize| (f64::from(probs[n * v + j]), f64::from(dprobs[n * v + j]));
            // probs_i = exp(x_i) / Σ_j exp(x_j)  →  dx_i = p_i · (dp_i - Σ_j p_j · dp_j)
            let dot: f64 = (0..v).map(|j| at(j).0 * at(j).1).sum();
            for j in 0..v {
                let (p, dp) = at(j);
                dlogits[n * v + j] = (p * (dp - dot)) as f32;
            }
        }
        Ok(())
    }

    /// Reference for [`super::crossentropy_forward`] (same buffers, shapes, errors, result);
    /// the loss is `logsumexp(x) - x[t]` in f64.
    pub fn crossentropy_forward_ref(
        losses: &mut [f32],
        probs: &mut [f32],
        logits: &[f32],
        targets: &[i32],
        ignore_index: Option<i32>,
        dims: SoftmaxDims,
    ) -> Result<f32> {
        let full = [("probs", probs.len()), ("logits", logits.len())];
        dims.check("crossentropy", &full, &[("losses", losses.len()), ("targets", targets.len())])?;
        let targets = row_targets("crossentropy", targets, ignore_index, dims.vocab)?;
        let v = dims.vocab;
        let (mut sum, mut count) = (0.0f64, 0usize);
        for (n, target) in targets.iter().enumerate() {
            let x = &logits[n * v..][..v];
            let (p, lse) = softmax_row(x);
            for (out, p) in probs[n * v..][..v].iter_mut().zip(p) {
                *out = p as f32;
            }
            let loss = target.map_or(0.0, |t| lse - f64::from(x[t]));
            count += usize::from(target.is_some());
            sum += loss;
            losses[n] = loss as f32;
        }
        Ok(if count == 0 { 0.0 } else { (sum / count as f64) as f32 })
    }

    /// Reference for [`super::crossentropy_backward`]: assigns `dlogits`.
    pub fn crossentropy_backward_ref(
        dlogits: &mut [f32],
        probs: &[f32],
        targets: &[i32],
        ignore_index: Option<i32>,
        dims: SoftmaxDims,
        scale: f32,
    ) -> Result<()> {
        let full = [("dlogits", dlogits.len()), ("probs", probs.len())];
        dims.check("crossentropy", &full, &[("targets", targets.len())])?;
        let targets = row_targets("crossentropy", targets, ignore_index, dims.vocab)?;
        if !scale.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "crossentropy: scale {scale} is not finite"
            )));
        }
        let v = dims.vocab;
        for (n, target) in targets.iter().enumerate() {
            for j in 0..v {
                // loss = -log probs[t]  →  dx_j = (probs_j - [j == t]) · scale
                let grad = match *target {
                    None => 0.0,
                    Some(t) => {
                        (f64::from(probs[n * v + j]) - f64::from(u8::from(j == t)))
                            * f64::from(scale)
                    }
                };
                dlogits[n * v + j] = grad as f32;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::reference::*;
    use super::*;
    use crate::testing::{assert_close, assert_close_f64, dot_loss, gradcheck, random_vec, Rng};

    /// Ragged `(N, V)` around the 4-lane width, plus one large enough to split over threads.
    fn shapes() -> Vec<SoftmaxDims> {
        let mut dims: Vec<SoftmaxDims> = [1usize, 3, 17, 63, 65]
            .iter()
            .enumerate()
            .map(|(i, &v)| SoftmaxDims::new([1, 3, 17, 2, 9][i], v))
            .collect();
        dims.extend([SoftmaxDims::new(5, 1), SoftmaxDims::new(33, 1000)]);
        dims
    }

    /// Logits spread over [-4, 4), so the probabilities are far from uniform.
    fn logits(dims: SoftmaxDims, seed: u64) -> Vec<f32> {
        random_vec(dims.rows * dims.vocab, seed).iter().map(|x| 4.0 * x).collect()
    }

    /// Targets in `0..V`, every third row set to `ignore` (when given).
    fn targets(dims: SoftmaxDims, seed: u64, ignore: Option<i32>) -> Vec<i32> {
        let mut rng = Rng::new(seed);
        (0..dims.rows)
            .map(|n| match ignore {
                Some(i) if n % 3 == 1 => i,
                _ => rng.below(dims.vocab) as i32,
            })
            .collect()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn softmax_matches_reference() {
        for dims in shapes() {
            let len = dims.rows * dims.vocab;
            let (x, dprobs) = (logits(dims, 1), random_vec(len, 2));
            let (mut want, mut got) = (vec![0.0; len], vec![f32::NAN; len]);
            softmax_forward_ref(&mut want, &x, dims).unwrap();
            softmax_forward(&mut got, &x, dims).unwrap();
            assert_close(&got, &want, 1e-7, 1e-5, &format!("{dims:?} probs"));
            let (mut dx_want, mut dx) = (vec![f32::NAN; len], vec![f32::NAN; len]);
            softmax_backward_ref(&mut dx_want, &dprobs, &want, dims).unwrap();
            softmax_backward(&mut dx, &dprobs, &want, dims).unwrap();
            assert_close(&dx, &dx_want, 1e-7, 1e-4, &format!("{dims:?} dlogits"));
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn crossentropy_matches_reference() {
        for dims in shapes() {
            for ignore in [None, Some(-1), Some(-100)] {
                let (n, v) = (dims.rows, dims.vocab);
                let what = format!("{dims:?} ignore={ignore:?}");
                let (x, t) = (logits(dims, 3), targets(dims, 4, ignore));
                let (mut losses_want, mut probs_want) = (vec![0.0; n], vec![0.0; n * v]);
                let want = crossentropy_forward_ref(
                    &mut losses_want,
                    &mut probs_want,
                    &x,
                    &t,
                    ignore,
                    dims,
                )
                .unwrap();
                let (mut losses, mut probs) = (vec![f32::NAN; n], vec![f32::NAN; n * v]);
                let got =
                    crossentropy_forward(&mut losses, &mut probs, &x, &t, ignore, dims).unwrap();
                assert_close(&[got], &[want], 1e-6, 1e-5, &format!("{what} mean"));
                assert_close(&losses, &losses_want, 1e-6, 1e-5, &format!("{what} losses"));
                assert_close(&probs, &probs_want, 1e-7, 1e-5, &format!("{what} probs"));

                let scale = crossentropy_mean_scale(&t, ignore);
                let (mut dx_want, mut dx) = (vec![f32::NAN; n * v], vec![f32::NAN; n * v]);
                crossentropy_backward_ref(&mut dx_want, &probs_want, &t, ignore, dims, scale)
                    .unwrap();
                crossentropy_backward(&mut dx, &probs, &t, ignore, dims, scale).unwrap();
                assert_close(&dx, &dx_want, 1e-7, 1e-4, &format!("{what} dlogits"));
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn reference_backwards_pass_gradcheck() {
        let (eps, atol, rtol) = (1e-2, 1e-4, 1e-3);
        for dims in [SoftmaxDims::new(3, 5), SoftmaxDims::new(4, 17), SoftmaxDims::new(2, 1)] {
            let (n, v) = (dims.rows, dims.vocab);
            let x = logits(dims, 5);
            let softmax = |x: &[f32]| {
                let mut probs = vec![0.0; n * v];
                softmax_forward_ref(&mut probs, x, dims).unwrap();
                probs
            };
            // Softmax alone: L = Σ probs · w, so dprobs = w.
            let w = random_vec(n * v, 6);
            let mut dx = vec![0.0; n * v];
            softmax_backward_ref(&mut dx, &w, &softmax(&x), dims).unwrap();
            gradcheck(&format!("{dims:?} softmax"), &x, &dx, eps, atol, rtol, |x| {
                dot_loss(&softmax(x), &w)
            });

            // The mean cross-entropy as the composition -mean(log softmax(x)[t]) over the
            // non-ignored rows, against crossentropy_backward_ref with the mean scale.
            let ignore = Some(-1);
            let t = targets(dims, 7, ignore);
            let kept: Vec<(usize, usize)> = t
                .iter()
                .enumerate()
                .filter_map(|(r, &t)| Some((r, usize::try_from(t).ok()?)))
                .collect();
            let mean_loss = |x: &[f32]| {
                let probs = softmax(x);
                let sum: f64 = kept.iter().map(|&(r, t)| -f64::from(probs[r * v + t]).ln()).sum();
                sum / kept.len() as f64
            };
            let mut losses = vec![0.0; n];
            let mut probs = vec![0.0; n * v];
            let mean =
                crossentropy_forward_ref(&mut losses, &mut probs, &x, &t, ignore, dims).unwrap();
            assert_close_f64(&[f64::from(mean)], &[mean_loss(&x)], 1e-6, 1e-6, "mean loss");
            let scale = crossentropy_mean_scale(&t, ignore);
            assert_eq!(scale, 1.0 / kept.len() as f32);
            let mut dx = vec![0.0; n * v];
            crossentropy_backward_ref(&mut dx, &probs, &t, ignore, dims, scale).unwrap();
            gradcheck(&format!("{dims:?} xent"), &x, &dx, eps, atol, rtol, mean_loss);
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn ignored_rows_are_zero_and_excluded() {
        let dims = SoftmaxDims::new(4, 6);
        let x = logits(dims, 8);
        let (mut losses, mut probs, mut dx) = (vec![9.0; 4], vec![0.0; 24], vec![9.0; 24]);
        // Rows 1 and 3 ignored: the mean is over rows 0 and 2 only.
        let t = [2, -100, 5, -100];
        let mean = crossentropy_forward(&mut losses, &mut probs, &x, &t, Some(-100), dims).unwrap();
        assert_eq!((losses[1], losses[3]), (0.0, 0.0));
        assert!(losses[0] > 0.0 && losses[2] > 0.0);
        assert_close(&[mean], &[(losses[0] + losses[2]) / 2.0], 1e-6, 1e-6, "mean of kept rows");
        let scale = crossentropy_mean_scale(&t, Some(-100));
        assert_eq!(scale, 0.5);
        crossentropy_backward(&mut dx, &probs, &t, Some(-100), dims, scale).unwrap();
        assert!(dx[6..12].iter().chain(&dx[18..]).all(|&g| g == 0.0), "{dx:?}");
        // Each kept row's gradient sums to 0 (probs sum to 1, minus the one-hot).
        let row_sum: f32 = dx[..6].iter().sum();
        assert!(row_sum.abs() < 1e-6, "{row_sum}");

        // An ignore index inside 0..V ignores that class's rows.
        let mean0 = crossentropy_forward(&mut losses, &mut probs, &x, &[0, 1, 0, 1], Some(0), dims);
        assert_close(&[mean0.unwrap()], &[(losses[1] + losses[3]) / 2.0], 1e-6, 1e-6, "ignore 0");

        // Every row ignored: the mean is 0 (not NaN), and so is the gradient.
        let all = [-1; 4];
        let mean = crossentropy_forward(&mut losses, &mut probs, &x, &all, Some(-1), dims).unwrap();
        assert_eq!((mean, losses.clone()), (0.0, vec![0.0; 4]));
        assert_eq!(crossentropy_mean_scale(&all, Some(-1)), 0.0);
        crossentropy_backward(&mut dx, &probs, &all, Some(-1), dims, 0.0).unwrap();
        assert_eq!(dx, vec![0.0; 24]);
        let r = crossentropy_forward_ref(&mut losses, &mut probs, &x, &all, Some(-1), dims);
        assert_eq!(r, Ok(0.0));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn huge_logits_stay_finite() {
        // Rows offset by ±1e4, and targets whose logit is 1e4 below the row's max, so
        // probs[t] underflows to 0 and the loss (≈ 1e4) must come from logsumexp.
        let dims = SoftmaxDims::new(4, 7);
        let mut x = logits(dims, 9);
        for (i, v) in x.iter_mut().enumerate() {
            *v += [1e4, -1e4, 3e4, 0.0][i / 7];
        }
        x[7 * 3] = 1e4; // row 3: class 0 dominates by 1e4
        x[7 * 2 + 4] += 2e4; // row 2: class 4 dominates by 2e4
        let t = [1, 6, 3, 5];
        let (mut losses, mut probs) = (vec![0.0; 4], vec![0.0; 28]);
        let mean = crossentropy_forward(&mut losses, &mut probs, &x, &t, None, dims).unwrap();
        let (mut losses_ref, mut probs_ref) = (vec![0.0; 4], vec![0.0; 28]);
        let want = crossentropy_forward_ref(&mut losses_ref, &mut probs_ref, &x, &t, None, dims);
        assert!(mean.is_finite() && probs.iter().all(|p| p.is_finite()), "{mean} {probs:?}");
        assert!(losses[2] > 1.9e4 && losses[3] > 0.9e4, "{losses:?}");
        assert_close(&losses, &losses_ref, 1e-3, 1e-5, "huge losses");
        assert_close(&[mean], &[want.unwrap()], 1e-3, 1e-5, "huge mean");
        assert_close(&probs, &probs_ref, 1e-7, 1e-5, "huge probs");
        let mut dx = vec![f32::NAN; 28];
        crossentropy_backward(&mut dx, &probs, &t, None, dims, 0.25).unwrap();
        assert!(dx.iter().all(|g| g.is_finite()), "{dx:?}");
        assert_eq!(dx[7 * 3 + 5], -0.25); // p_t = 0 → (0 - 1) · scale
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn bad_inputs_are_errors() {
        let dims = SoftmaxDims::new(2, 3);
        let (x, mut probs, mut losses) = (vec![0.0; 6], vec![0.0; 6], vec![0.0; 2]);
        let shape = |what: &str, expected, got| Err(Error::shape(what, expected, got));
        assert_eq!(softmax_forward(&mut probs, &x[..5], dims), shape("softmax: logits", 6, 5));
        let r = softmax_backward(&mut probs, &x, &x[..1], dims);
        assert_eq!(r, shape("softmax: probs", 6, 1));
        let r = crossentropy_forward(&mut losses[..1], &mut probs, &x, &[0, 1], None, dims);
        assert_eq!(r.map(|_| ()), shape("crossentropy: losses", 2, 1));
        let r = crossentropy_forward(&mut losses, &mut probs, &x, &[0], None, dims);
        assert_eq!(r.map(|_| ()), shape("crossentropy: targets", 2, 1));
        let r = crossentropy_backward(&mut probs[..4], &x, &[0, 1], None, dims, 1.0);
        assert_eq!(r, shape("crossentropy: dlogits", 6, 4));
        let r = softmax_forward(&mut [], &[], SoftmaxDims::new(2, 0));
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");

        // Out-of-range targets name the row and the value, and write nothing.
        probs.fill(7.0);
        for (t, ignore, bad) in
            [([0, 3], None, "target 3 at row 1"), ([-1, 0], Some(-100), "target -1 at row 0")]
        {
            let r = crossentropy_forward(&mut losses, &mut probs, &x, &t, ignore, dims);
            let Err(Error::InvalidArgument(msg)) = r else { panic!("{t:?}: {r:?}") };
            assert!(msg.contains(bad), "{msg}");
            let r = crossentropy_backward(&mut [0.0; 6], &x, &t, ignore, dims, 1.0);
            assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
            let r = crossentropy_forward_ref(&mut losses, &mut probs, &x, &t, ignore, dims);
            assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
        }
        assert_eq!(probs, vec![7.0; 6]);
        let r = crossentropy_backward(&mut [0.0; 6], &x, &[0, 1], None, dims, f32::NAN);
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    }
}

//! LayerNorm and RMSNorm over the last dimension `C` (the residual add is in residual.rs).
//!
//! Math, per row `x: [C]` (llm.c `layernorm_forward` / `layernorm_backward`):
//! - LayerNorm: `mean = Σ x / C`, `rstd = 1 / sqrt(Σ (x - mean)² / C + eps)`,
//!   `norm = (x - mean) · rstd`, `out = norm · weight + bias`. With `g = weight · dout`:
//!   `dinp = rstd · (g - mean(g) - norm · mean(g · norm))`, `dweight += Σ_rows norm · dout`,
//!   `dbias += Σ_rows dout`.
//! - RMSNorm: `rstd = 1 / sqrt(Σ x² / C + eps)`, `norm = x · rstd`, `out = norm · weight`;
//!   `dinp = rstd · (g - norm · mean(g · norm))`, `dweight += Σ_rows norm · dout`.
//!
//! Shapes: `inp`, `out`, `dout`, `dinp: [N, C]` (`N = B·T` rows), `weight`, `bias`,
//! `dweight`, `dbias: [C]`, saved state `NormCache { mean, rstd }` / `RmsCache { rstd }`:
//! `[N]` each.
//!
//! Accumulation: the norm backwards ASSIGN `dinp` and ADD (`+=`) into `dweight` / `dbias`.
//!
//! Rows are split over [`crate::par`] threads (columns for `dweight` / `dbias`, which sum
//! over rows in a fixed order, so results do not depend on the thread count) once `N·C` is
//! large. `mod reference` holds the f64 spec.

use crate::error::{check_len, checked_product, Error, Result};
use crate::par::for_each_row_block;
use crate::simd::{F32x4, LANES};

/// Elements of work below which a pass runs on the calling thread only.
const PAR_MIN_ELEMS: usize = 1 << 14;

/// Rows (or columns) of `row_len` elements per thread task, so each task gets real work.
fn min_per_task(row_len: usize) -> usize {
    (PAR_MIN_ELEMS / row_len.max(1)).max(1)
}

/// The sizes of a norm over the last dimension: `[rows, channels]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NormDims {
    /// `N`: rows normalised independently (usually `B·T`).
    pub rows: usize,
    /// `C`: the normalised (last) dimension. Must be > 0.
    pub channels: usize,
}

impl NormDims {
    /// `N, C`.
    pub fn new(rows: usize, channels: usize) -> Self {
        Self { rows, channels }
    }

    /// Checks `C > 0` (else [`Error::InvalidArgument`]) and the lengths of `[N, C]` buffers
    /// (`full`), `[N]` buffers (`per_row`) and `[C]` buffers (`per_channel`), naming the
    /// offender as `"{op}: {name}"` in [`Error::Shape`].
    pub fn check(
        &self,
        op: &str,
        full: &[(&str, usize)],
        per_row: &[(&str, usize)],
        per_channel: &[(&str, usize)],
    ) -> Result<()> {
        if self.channels == 0 {
            return Err(Error::InvalidArgument(format!("{op}: channels (C) must be > 0")));
        }
        let (n, c) = (self.rows, self.channels);
        let numel = checked_product(op, &[n, c])?;
        for (expected, list) in [(numel, full), (n, per_row), (c, per_channel)] {
            for &(name, len) in list {
                check_len(&format!("{op}: {name}"), expected, len)?;
            }
        }
        Ok(())
    }
}

/// LayerNorm's saved state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NormCache {
    /// Row means, `[N]`.
    pub mean: Vec<f32>,
    /// Row reciprocal standard deviations `1 / sqrt(var + eps)`, `[N]`.
    pub rstd: Vec<f32>,
}

impl NormCache {
    /// Zeroed state for `rows` rows.
    pub fn new(rows: usize) -> Self {
        Self { mean: vec![0.0; rows], rstd: vec![0.0; rows] }
    }
}

/// RMSNorm's saved state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RmsCache {
    /// Row reciprocal root-mean-squares `1 / sqrt(mean(x²) + eps)`, `[N]`.
    pub rstd: Vec<f32>,
}

impl RmsCache {
    /// Zeroed state for `rows` rows.
    pub fn new(rows: usize) -> Self {
        Self { rstd: vec![0.0; rows] }
    }
}

/// Either norm's saved statistics, read-only. RMSNorm is LayerNorm without centring, so it
/// has no `mean` (`norm = (x + shift) · rstd` with `shift = -mean` or `0`).
#[derive(Clone, Copy)]
pub struct Stats<'a> {
    /// `[N]`, `None` for RMSNorm.
    pub mean: Option<&'a [f32]>,
    /// `[N]`.
    pub rstd: &'a [f32],
}

impl Stats<'_> {
    fn shift(&self, row: usize) -> f32 {
        self.mean.map_or(0.0, |m| -m[row])
    }
}

/// A norm's parameters: `weight, bias: [C]` (`bias: None` for RMSNorm or a bias-free norm).
#[derive(Clone, Copy, Debug)]
pub struct NormParams<'a> {
    /// `[C]`.
    pub weight: &'a [f32],
    /// `[C]`.
    pub bias: Option<&'a [f32]>,
}

/// A norm's parameter gradients, ADDED into by the backwards: `dweight, dbias: [C]`.
#[derive(Debug)]
pub struct NormGrads<'a> {
    /// `[C]`.
    pub dweight: &'a mut [f32],
    /// `[C]`; `None`: the norm has no bias (RMSNorm), or its gradient is not wanted.
    pub dbias: Option<&'a mut [f32]>,
}

/// A forward's lengths (`mean: None` is RMSNorm) and `eps` (finite, > 0), for the fast
/// kernels and `mod reference` alike.
fn check_forward(
    out: &[f32],
    mean: Option<&[f32]>,
    rstd: &[f32],
    inp: &[f32],
    params: NormParams<'_>,
    dims: NormDims,
    eps: f32,
) -> Result<()> {
    let op = if mean.is_some() { "layernorm" } else { "rmsnorm" };
    let per_row =
        [("cache.mean", mean.map_or(dims.rows, <[f32]>::len)), ("cache.rstd", rstd.len())];
    let bias = params.bias.map_or(dims.channels, <[f32]>::len);
    let per_channel = [("weight", params.weight.len()), ("bias", bias)];
    dims.check(op, &[("out", out.len()), ("inp", inp.len())], &per_row, &per_channel)?;
    if eps.is_finite() && eps > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!("{op}: eps must be finite and > 0, got {eps}")))
    }
}

/// A backward's lengths (`stats.mean: None` is RMSNorm).
fn check_backward(
    dinp: &[f32],
    grads: &NormGrads<'_>,
    dout: &[f32],
    stats: Stats,
    inp: &[f32],
    weight: &[f32],
    dims: NormDims,
) -> Result<()> {
    let op = if stats.mean.is_some() { "layernorm" } else { "rmsnorm" };
    let mean = stats.mean.map_or(dims.rows, <[f32]>::len);
    let per_row = [("cache.mean", mean), ("cache.rstd", stats.rstd.len())];
    let dbias = grads.dbias.as_deref().map_or(dims.channels, <[f32]>::len);
    let per_channel =
        [("weight", weight.len()), ("dweight", grads.dweight.len()), ("dbias", dbias)];
    let full = [("dinp", dinp.len()), ("dout", dout.len()), ("inp", inp.len())];
    dims.check(op, &full, &per_row, &per_channel)
}

/// `Σ_i x_i`.
fn lane_sum(x: &[f32]) -> f32 {
    let mut acc = F32x4::zero();
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        acc = acc + F32x4::load(c);
    }
    acc.horizontal_sum() + tail
}

/// `Σ_i (x_i + shift)²`.
fn lane_sum_sq(x: &[f32], shift: f32) -> f32 {
    let (mut acc, s) = (F32x4::zero(), F32x4::splat(shift));
    let chunks = x.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&v| (v + shift) * (v + shift)).sum();
    for c in chunks {
        let d = F32x4::load(c) + s;
        acc = F32x4::mul_add(d, d, acc);
    }
    acc.horizontal_sum() + tail
}

/// `(Σ g_i, Σ g_i · norm_i)` with `g = w · dout`, `norm = (x + shift) · rstd`.
fn lane_backward_sums(w: &[f32], dout: &[f32], x: &[f32], shift: f32, rstd: f32) -> (f32, f32) {
    let (mut sg, mut sgn) = (F32x4::zero(), F32x4::zero());
    let (s, r) = (F32x4::splat(shift), F32x4::splat(rstd));
    let mut i = 0;
    while i + LANES <= x.len() {
        let g = F32x4::load(&w[i..]) * F32x4::load(&dout[i..]);
        let norm = (F32x4::load(&x[i..]) + s) * r;
        sg = sg + g;
        sgn = F32x4::mul_add(g, norm, sgn);
        i += LANES;
    }
    let (mut tg, mut tgn) = (0.0, 0.0);
    for j in i..x.len() {
        let g = w[j] * dout[j];
        tg += g;
        tgn += g * (x[j] + shift) * rstd;
    }
    (sg.horizontal_sum() + tg, sgn.horizontal_sum() + tgn)
}

/// `out = (x + shift) · rstd · w (+ b)` for one row.
fn normalize_row(out: &mut [f32], x: &[f32], shift: f32, rstd: f32, w: &[f32], b: Option<&[f32]>) {
    let (s, r) = (F32x4::splat(shift), F32x4::splat(rstd));
    let mut i = 0;
    while i + LANES <= x.len() {
        let norm = (F32x4::load(&x[i..]) + s) * r;
        let bias = b.map_or(F32x4::zero(), |b| F32x4::load(&b[i..]));
        F32x4::mul_add(norm, F32x4::load(&w[i..]), bias).store(&mut out[i..]);
        i += LANES;
    }
    for j in i..x.len() {
        out[j] = (x[j] + shift) * rstd * w[j] + b.map_or(0.0, |b| b[j]);
    }
}

/// `dinp = rstd · (g - mean_g - norm · mean_gn)`, `g = w · dout`, `norm = (x + shift) · rstd`.
fn dinp_row(
    dinp: &mut [f32],
    dout: &[f32],
    x: &[f32],
    w: &[f32],
    (shift, rstd): (f32, f32),
    mean_g: f32,
    mean_gn: f32,
) {
    let (s, r) = (F32x4::splat(shift), F32x4::splat(rstd));
    let (neg_mg, neg_mgn) = (F32x4::splat(-mean_g), F32x4::splat(-mean_gn));
    let mut i = 0;
    while i + LANES <= x.len() {
        let g = F32x4::load(&w[i..]) * F32x4::load(&dout[i..]);
        let norm = (F32x4::load(&x[i..]) + s) * r;
        (F32x4::mul_add(norm, neg_mgn, g + neg_mg) * r).store(&mut dinp[i..]);
        i += LANES;
    }
    for j in i..x.len() {
        let norm = (x[j] + shift) * rstd;
        dinp[j] = (w[j] * dout[j] - mean_g - norm * mean_gn) * rstd;
    }
}

/// `dparam[j] += Σ_rows dout[row, j] · norm[row, j]` with `norm` from `(inp, stats)`, or
/// `+= Σ_rows dout[row, j]` when that is `None`. Split over columns, rows summed in order.
fn add_column_sums(dparam: &mut [f32], dout: &[f32], norm: Option<(&[f32], Stats)>, rows: usize) {
    let c = dparam.len();
    for_each_row_block(dparam, 1, min_per_task(rows), |cols, block| {
        for row in 0..rows {
            let at = row * c + cols.start..row * c + cols.end;
            let dout_row = &dout[at.clone()];
            match norm {
                None => block.iter_mut().zip(dout_row).for_each(|(d, &g)| *d += g),
                Some((inp, stats)) => {
                    let (shift, r) = (stats.shift(row), stats.rstd[row]);
                    for ((d, &g), &v) in block.iter_mut().zip(dout_row).zip(&inp[at.clone()]) {
                        *d += g * ((v + shift) * r);
                    }
                }
            }
        }
    });
}

/// Both forwards: `mean: None` is RMSNorm.
/// LayerNorm (`mean` given) or RMSNorm (`mean: None`, no `bias`) with the saved statistics
/// as slices (for planned arenas). `out: [N, C]`, `mean, rstd: [N]` (assigned), `inp: [N, C]`,
/// `params.weight, params.bias: [C]`.
pub fn norm_forward(
    out: &mut [f32],
    mut mean: Option<&mut [f32]>,
    rstd: &mut [f32],
    inp: &[f32],
    params: NormParams<'_>,
    dims: NormDims,
    eps: f32,
) -> Result<()> {
    check_forward(out, mean.as_deref(), rstd, inp, params, dims, eps)?;
    let NormParams { weight, bias } = params;
    let c = dims.channels;
    let min_rows = min_per_task(c);
    let row = |r: usize| &inp[r * c..][..c];
    if let Some(mean) = mean.as_deref_mut() {
        for_each_row_block(mean, 1, min_rows, |rows, block| {
            for (m, r) in block.iter_mut().zip(rows) {
                *m = lane_sum(row(r)) / c as f32;
            }
        });
    }
    let mean = mean.as_deref();
    for_each_row_block(rstd, 1, min_rows, |rows, block| {
        for (s, r) in block.iter_mut().zip(rows) {
            let shift = mean.map_or(0.0, |m| -m[r]);
            *s = 1.0 / (lane_sum_sq(row(r), shift) / c as f32 + eps).sqrt();
        }
    });
    let stats = Stats { mean, rstd };
    for_each_row_block(out, c, min_rows, |rows, block| {
        for (r, o) in rows.zip(block.chunks_exact_mut(c)) {
            normalize_row(o, row(r), stats.shift(r), stats.rstd[r], weight, bias);
        }
    });
    Ok(())
}

/// Both backwards: `stats.mean: None` is RMSNorm.
/// Gradients of [`norm_forward`]: ASSIGNS `dinp`, ADDS into `grads.dweight`, `grads.dbias`.
/// `dinp, dout, inp: [N, C]`, `stats` from the forward, `dweight, dbias, weight: [C]`.
pub fn norm_backward(
    dinp: &mut [f32],
    grads: NormGrads<'_>,
    dout: &[f32],
    stats: Stats,
    inp: &[f32],
    weight: &[f32],
    dims: NormDims,
) -> Result<()> {
    check_backward(dinp, &grads, dout, stats, inp, weight, dims)?;
    let NormGrads { dweight, dbias } = grads;
    let c = dims.channels;
    for_each_row_block(dinp, c, min_per_task(c), |rows, block| {
        for (r, di) in rows.zip(block.chunks_exact_mut(c)) {
            let (x, g) = (&inp[r * c..][..c], &dout[r * c..][..c]);
            let (shift, rstd) = (stats.shift(r), stats.rstd[r]);
            // norm = (x - mean) · rstd (RMSNorm: mean ≡ 0); out = norm · w + b
            //   → dnorm = w · dout,
            //     dinp = rstd · (dnorm - mean(dnorm) [LayerNorm only] - norm · mean(dnorm · norm))
            let (sg, sgn) = lane_backward_sums(weight, g, x, shift, rstd);
            let mean_g = if stats.mean.is_some() { sg / c as f32 } else { 0.0 };
            dinp_row(di, g, x, weight, (shift, rstd), mean_g, sgn / c as f32);
        }
    });
    // out = norm · w + b  →  dweight += Σ_rows norm · dout, dbias += Σ_rows dout
    add_column_sums(dweight, dout, Some((inp, stats)), dims.rows);
    if let Some(dbias) = dbias {
        add_column_sums(dbias, dout, None, dims.rows);
    }
    Ok(())
}

/// LayerNorm: `out = (inp - mean) · rstd · weight + bias` per row; saves `mean` and `rstd`.
///
/// `out: [N, C]`, `cache.mean`, `cache.rstd: [N]` (assigned), `inp: [N, C]`, `weight: [C]`,
/// `bias: [C]` (optional), `eps` finite and > 0.
pub fn layernorm_forward(
    out: &mut [f32],
    cache: &mut NormCache,
    inp: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    dims: NormDims,
    eps: f32,
) -> Result<()> {
    let mean = Some(cache.mean.as_mut_slice());
    norm_forward(out, mean, &mut cache.rstd, inp, NormParams { weight, bias }, dims, eps)
}

/// Gradients of [`layernorm_forward`]: ASSIGNS `dinp`, ADDS into `grads.dweight` and
/// `grads.dbias`.
///
/// `dinp: [N, C]`, `grads.dweight: [C]`, `grads.dbias: [C]` (optional), `dout: [N, C]`,
/// `cache` from the forward (`[N]` each), `inp: [N, C]`, `weight: [C]`.
pub fn layernorm_backward(
    dinp: &mut [f32],
    grads: NormGrads<'_>,
    dout: &[f32],
    cache: &NormCache,
    inp: &[f32],
    weight: &[f32],
    dims: NormDims,
) -> Result<()> {
    let stats = Stats { mean: Some(&cache.mean), rstd: &cache.rstd };
    norm_backward(dinp, grads, dout, stats, inp, weight, dims)
}

/// RMSNorm: `out = inp · rstd · weight`, `rstd = 1 / sqrt(mean(inp²) + eps)` per row; saves
/// `rstd`.
///
/// `out: [N, C]`, `cache.rstd: [N]` (assigned), `inp: [N, C]`, `weight: [C]`, `eps` finite
/// and > 0.
pub fn rmsnorm_forward(
    out: &mut [f32],
    cache: &mut RmsCache,
    inp: &[f32],
    weight: &[f32],
    dims: NormDims,
    eps: f32,
) -> Result<()> {
    norm_forward(out, None, &mut cache.rstd, inp, NormParams { weight, bias: None }, dims, eps)
}

/// Gradients of [`rmsnorm_forward`]: ASSIGNS `dinp`, ADDS into `dweight`.
///
/// `dinp: [N, C]`, `dweight: [C]`, `dout: [N, C]`, `cache.rstd: [N]` from the forward,
/// `inp: [N, C]`, `weight: [C]`.
pub fn rmsnorm_backward(
    dinp: &mut [f32],
    dweight: &mut [f32],
    dout: &[f32],
    cache: &RmsCache,
    inp: &[f32],
    weight: &[f32],
    dims: NormDims,
) -> Result<()> {
    let stats = Stats { mean: None, rstd: &cache.rstd };
    let grads = NormGrads { dweight, dbias: None };
    norm_backward(dinp, grads, dout, stats, inp, weight, dims)
}

pub mod reference {
    //! The spec: plain loops in f64, one row at a time. LayerNorm and RMSNorm share one
    //! implementation (RMSNorm: no centring, no bias).

    use super::{
        check_backward, check_forward, NormCache, NormDims, NormGrads, NormParams, RmsCache, Stats,
    };
    use crate::error::Result;

    fn row(x: &[f32], row: usize, c: usize) -> Vec<f64> {
        x[row * c..][..c].iter().map(|&v| f64::from(v)).collect()
    }

    fn norm_forward_ref(
        out: &mut [f32],
        mut mean: Option<&mut [f32]>,
        rstd: &mut [f32],
        inp: &[f32],
        params: NormParams<'_>,
        dims: NormDims,
        eps: f32,
    ) -> Result<()> {
        check_forward(out, mean.as_deref(), rstd, inp, params, dims, eps)?;
        let NormParams { weight, bias } = params;
        let c = dims.channels;
        for n in 0..dims.rows {
            let x = row(inp, n, c);
            let mu = if mean.is_some() { x.iter().sum::<f64>() / c as f64 } else { 0.0 };
            let var = x.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / c as f64;
            let r = 1.0 / (var + f64::from(eps)).sqrt();
            for j in 0..c {
                let b = bias.map_or(0.0, |b| f64::from(b[j]));
                out[n * c + j] = ((x[j] - mu) * r * f64::from(weight[j]) + b) as f32;
            }
            mean.as_deref_mut().into_iter().for_each(|mean| mean[n] = mu as f32);
            rstd[n] = r as f32;
        }
        Ok(())
    }

    fn norm_backward_ref(
        dinp: &mut [f32],
        grads: NormGrads<'_>,
        dout: &[f32],
        stats: Stats,
        inp: &[f32],
        weight: &[f32],
        dims: NormDims,
    ) -> Result<()> {
        check_backward(dinp, &grads, dout, stats, inp, weight, dims)?;
        let NormGrads { dweight, mut dbias } = grads;
        let c = dims.channels;
        for n in 0..dims.rows {
            let (x, g) = (row(inp, n, c), row(dout, n, c));
            let (mean, rstd) = (f64::from(-stats.shift(n)), f64::from(stats.rstd[n]));
            let norm: Vec<f64> = x.iter().map(|v| (v - mean) * rstd).collect();
            // out = norm · w + b  →  dnorm = w · dout
            let dnorm: Vec<f64> = (0..c).map(|j| f64::from(weight[j]) * g[j]).collect();
            // norm = (x - mean) · rstd, through mean (LayerNorm only) and rstd
            let sum_dnorm: f64 = if stats.mean.is_some() { dnorm.iter().sum() } else { 0.0 };
            let mean_dnorm = sum_dnorm / c as f64;
            let mean_dnorm_norm = (0..c).map(|j| dnorm[j] * norm[j]).sum::<f64>() / c as f64;
            for j in 0..c {
                let dx = (dnorm[j] - mean_dnorm - norm[j] * mean_dnorm_norm) * rstd;
                dinp[n * c + j] = dx as f32;
                dweight[j] = (f64::from(dweight[j]) + norm[j] * g[j]) as f32;
                if let Some(dbias) = dbias.as_deref_mut() {
                    dbias[j] = (f64::from(dbias[j]) + g[j]) as f32;
                }
            }
        }
        Ok(())
    }

    /// Reference for [`super::layernorm_forward`] (same buffers, shapes and errors).
    pub fn layernorm_forward_ref(
        out: &mut [f32],
        cache: &mut NormCache,
        inp: &[f32],
        weight: &[f32],
        bias: Option<&[f32]>,
        dims: NormDims,
        eps: f32,
    ) -> Result<()> {
        let mean = Some(cache.mean.as_mut_slice());
        norm_forward_ref(out, mean, &mut cache.rstd, inp, NormParams { weight, bias }, dims, eps)
    }

    /// Reference for [`super::layernorm_backward`]: assigns `dinp`, adds into `dweight`, `dbias`.
    pub fn layernorm_backward_ref(
        dinp: &mut [f32],
        grads: NormGrads<'_>,
        dout: &[f32],
        cache: &NormCache,
        inp: &[f32],
        weight: &[f32],
        dims: NormDims,
    ) -> Result<()> {
        let stats = Stats { mean: Some(&cache.mean), rstd: &cache.rstd };
        norm_backward_ref(dinp, grads, dout, stats, inp, weight, dims)
    }

    /// Reference for [`super::rmsnorm_forward`] (same buffers, shapes and errors).
    pub fn rmsnorm_forward_ref(
        out: &mut [f32],
        cache: &mut RmsCache,
        inp: &[f32],
        weight: &[f32],
        dims: NormDims,
        eps: f32,
    ) -> Result<()> {
        let params = NormParams { weight, bias: None };
        norm_forward_ref(out, None, &mut cache.rstd, inp, params, dims, eps)
    }

    /// Reference for [`super::rmsnorm_backward`]: assigns `dinp`, adds into `dweight`.
    pub fn rmsnorm_backward_ref(
        dinp: &mut [f32],
        dweight: &mut [f32],
        dout: &[f32],
        cache: &RmsCache,
        inp: &[f32],
        weight: &[f32],
        dims: NormDims,
    ) -> Result<()> {
        let stats = Stats { mean: None, rstd: &cache.rstd };
        let grads = NormGrads { dweight, dbias: None };
        norm_backward_ref(dinp, grads, dout, stats, inp, weight, dims)
    }
}

#[cfg(test)]
mod tests {
    use super::reference::*;
    use super::*;
    use crate::testing::{assert_close, dot_loss, gradcheck, random_vec};

    const EPS: f32 = 1e-5;

    /// Ragged `(N, C)` around the 4-lane width, plus one large enough to split over threads.
    fn shapes() -> Vec<NormDims> {
        let mut dims = Vec::new();
        for (i, &c) in [1usize, 3, 4, 17, 63, 65, 130].iter().enumerate() {
            dims.push(NormDims::new([1, 3, 17, 63][i % 4], c));
        }
        dims.push(NormDims::new(70, 517));
        dims
    }

    /// Inputs with a per-row offset and scale, so mean and variance matter.
    fn inputs(dims: NormDims, seed: u64) -> Vec<f32> {
        let c = dims.channels;
        let x = random_vec(dims.rows * c, seed);
        let scale_shift = |row: usize| (1.0 + (row % 3) as f32, (row % 5) as f32 * 0.5);
        x.iter()
            .enumerate()
            .map(|(i, &v)| v * scale_shift(i / c).0 + scale_shift(i / c).1)
            .collect()
    }

    /// LayerNorm (`rms: false`, with `bias`) or RMSNorm, forward then backward with
    /// `dout`, through the fast kernels or the reference. NaN-filled outputs and `dinp` check
    /// that they are assigned; `dweight` / `dbias` start random to check they accumulate.
    /// Returns `[out, mean, rstd, dinp, dweight, dbias]` (`mean` empty for RMSNorm).
    fn run(
        fast: bool,
        rms: bool,
        bias: Option<&[f32]>,
        data: [&[f32]; 3],
        dims: NormDims,
    ) -> [Vec<f32>; 6] {
        let ((n, c), [x, w, dout]) = ((dims.rows, dims.channels), data);
        let (mut out, mut dx) = (vec![f32::NAN; n * c], vec![f32::NAN; n * c]);
        let (mut dw, mut db) = (random_vec(c, 5), random_vec(c, 6));
        let nan_rows = || vec![f32::NAN; n];
        let mut ln = NormCache { mean: nan_rows(), rstd: nan_rows() };
        let mut rs = RmsCache { rstd: nan_rows() };
        let grads = NormGrads { dweight: &mut dw, dbias: bias.map(|_| db.as_mut_slice()) };
        match (fast, rms) {
            (true, false) => {
                layernorm_forward(&mut out, &mut ln, x, w, bias, dims, EPS).unwrap();
                layernorm_backward(&mut dx, grads, dout, &ln, x, w, dims).unwrap();
            }
            (false, false) => {
                layernorm_forward_ref(&mut out, &mut ln, x, w, bias, dims, EPS).unwrap();
                layernorm_backward_ref(&mut dx, grads, dout, &ln, x, w, dims).unwrap();
            }
            (true, true) => {
                rmsnorm_forward(&mut out, &mut rs, x, w, dims, EPS).unwrap();
                rmsnorm_backward(&mut dx, grads.dweight, dout, &rs, x, w, dims).unwrap();
            }
            (false, true) => {
                rmsnorm_forward_ref(&mut out, &mut rs, x, w, dims, EPS).unwrap();
                rmsnorm_backward_ref(&mut dx, grads.dweight, dout, &rs, x, w, dims).unwrap();
            }
        }
        let (mean, rstd) = if rms { (Vec::new(), rs.rstd) } else { (ln.mean, ln.rstd) };
        [out, mean, rstd, dx, dw, db]
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fast_matches_reference() {
        const NAMES: [&str; 6] = ["out", "mean", "rstd", "dinp", "dweight", "dbias"];
        for dims in shapes() {
            let (n, c) = (dims.rows, dims.channels);
            let x = inputs(dims, 1);
            let (w, b, dout) = (random_vec(c, 2), random_vec(c, 3), random_vec(n * c, 4));
            for (rms, bias) in [(false, None), (false, Some(b.as_slice())), (true, None)] {
                let got = run(true, rms, bias, [&x, &w, &dout], dims);
                let want = run(false, rms, bias, [&x, &w, &dout], dims);
                // dweight / dbias sum over the N rows.
                let sum_tol = 1e-5 * (n as f32).sqrt() + 1e-6;
                let atols = [1e-5, 1e-6, 1e-6, 1e-5, sum_tol, sum_tol];
                for (i, name) in NAMES.iter().enumerate() {
                    let what = format!("{dims:?} rms={rms} bias={} {name}", bias.is_some());
                    assert_close(&got[i], &want[i], atols[i], 1e-4, &what);
                }
                if bias.is_none() {
                    assert_eq!(
                        got[5],
                        random_vec(c, 6),
                        "{dims:?}: dbias untouched without a bias"
                    );
                }
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn reference_backwards_pass_gradcheck() {
        let (eps, atol, rtol) = (1e-2, 1e-4, 1e-3);
        for dims in [NormDims::new(3, 5), NormDims::new(2, 17), NormDims::new(1, 2)] {
            let (n, c) = (dims.rows, dims.channels);
            let (x, w, b) = (inputs(dims, 21), random_vec(c, 22), random_vec(c, 23));
            let probe = random_vec(n * c, 24); // L = Σ out · probe, so dout = probe
                                               // `run` starts dweight / dbias at random_vec(c, 5 / 6) and adds into them.
            let minus = |a: &[f32], seed| -> Vec<f32> {
                a.iter().zip(random_vec(c, seed)).map(|(&a, s)| a - s).collect()
            };
            for rms in [false, true] {
                let bias = (!rms).then_some(b.as_slice());
                let loss = |x: &[f32], w: &[f32], b: &[f32]| {
                    let out = &run(false, rms, bias.map(|_| b), [x, w, &probe], dims)[0];
                    dot_loss(out, &probe)
                };
                let [_, _, _, dx, dw, db] = run(false, rms, bias, [&x, &w, &probe], dims);
                let (dw, db) = (minus(&dw, 5), minus(&db, 6));
                let what = format!("{dims:?} rms={rms}");
                gradcheck(&format!("{what} dinp"), &x, &dx, eps, atol, rtol, |x| loss(x, &w, &b));
                gradcheck(&format!("{what} dweight"), &w, &dw, eps, atol, rtol, |w| {
                    loss(&x, w, &b)
                });
                if !rms {
                    gradcheck(&format!("{what} dbias"), &b, &db, eps, atol, rtol, |b| {
                        loss(&x, &w, b)
                    });
                }
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn bad_inputs_are_errors() {
        let dims = NormDims::new(2, 3);
        let (x, w) = (vec![0.0; 6], vec![1.0; 3]);
        let shape = |what: &str, expected, got| Err(Error::shape(what, expected, got));
        let mut cache = NormCache::new(2);
        let mut out = vec![0.0; 6];
        let r = layernorm_forward(&mut out, &mut cache, &x[..5], &w, None, dims, EPS);
        assert_eq!(r, shape("layernorm: inp", 6, 5));
        let r = layernorm_forward(&mut out, &mut cache, &x, &w, Some(&w[..2]), dims, EPS);
        assert_eq!(r, shape("layernorm: bias", 3, 2));
        let r = layernorm_forward(&mut out, &mut NormCache::new(1), &x, &w, None, dims, EPS);
        assert_eq!(r, shape("layernorm: cache.mean", 2, 1));
        for eps in [0.0, -1.0, f32::NAN] {
            let r = layernorm_forward(&mut out, &mut cache, &x, &w, None, dims, eps);
            assert!(matches!(r, Err(Error::InvalidArgument(_))), "eps {eps}: {r:?}");
        }
        let (no_c, no_rows) = (NormDims::new(2, 0), NormDims::new(0, 3));
        let r = layernorm_forward(&mut [], &mut NormCache::new(2), &[], &[], None, no_c, EPS);
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
        let (mut dx, mut dw, mut db) = (vec![0.0; 6], vec![0.0; 3], vec![0.0; 3]);
        let grads = NormGrads { dweight: &mut dw, dbias: Some(&mut db[..1]) };
        let r = layernorm_backward(&mut dx, grads, &x, &cache, &x, &w, dims);
        assert_eq!(r, shape("layernorm: dbias", 3, 1));
        let grads = NormGrads { dweight: &mut dw[..2], dbias: None };
        let r = layernorm_backward(&mut dx, grads, &x, &cache, &x, &w, dims);
        assert_eq!(r, shape("layernorm: dweight", 3, 2));

        let mut rms = RmsCache::new(2);
        let r = rmsnorm_forward(&mut out[..4], &mut rms, &x, &w, dims, EPS);
        assert_eq!(r, shape("rmsnorm: out", 6, 4));
        let r = rmsnorm_backward(&mut dx, &mut dw, &x, &RmsCache::new(3), &x, &w, dims);
        assert_eq!(r, shape("rmsnorm: cache.rstd", 2, 3));

        // Zero rows is an empty call, and a constant row normalises to 0 (not NaN).
        let r = layernorm_forward(&mut [], &mut NormCache::new(0), &[], &w, None, no_rows, EPS);
        assert_eq!(r, Ok(()));
        layernorm_forward(&mut out, &mut cache, &[2.0; 6], &w, None, dims, EPS).unwrap();
        assert_eq!(out, vec![0.0; 6]);
    }
}

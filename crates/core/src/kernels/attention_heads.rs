//! The TRAINING attention path of `attention.rs`, one `(b, h)` head at a time through the
//! packed matmul engine: forward `S = Q Kᵀ`, `P = softmax(S·scale + bias + mask)`, `O = P V`;
//! backward `dP = dO Vᵀ`, `dS = P ⊙ (dP − rowsum(dO ⊙ O))`, `dV = Pᵀ dO`, `dQ = dS K·scale`,
//! `dK = dSᵀ Q·scale`. The backward reads `P` when the forward saved it (a `[B, H, T, T]`
//! buffer from the caller, for small heads), else rebuilds it in one pass from `S` and the
//! forward's log-sum-exp, `P = exp(S·scale + bias − lse)` (FlashAttention's way; no second
//! softmax). Each task holds up to two `[T, T]` scratch buffers (training sequences are at most
//! `block_size`); inference keeps the tiled `T×T`-free path in `attention_infer.rs`.
//!
//! With the causal mask, `P` and `dS` are lower triangular, so every product skips the tiles
//! above the diagonal (`S`, `dP`) or stops its contraction there (`P V`, `Pᵀ dO`, `dS K`,
//! `dSᵀ Q`): about half the work of a dense head at long sequences. Entries of `S` and `dP`
//! above the diagonal are then never read.
//!
//! Shapes as in `attention.rs`: `q, k, v, out, d*: [B, H, T, D]`, `lse: [B, H, T]`,
//! `key_padding: [B, T]`, `bias, dbias: [H, T, T]`. Everything is checked by the callers.
//! Accumulation: `out`, `lse`, `dq`, `dk`, `dv` ASSIGNED; `dbias` ADDED.

use std::sync::{Mutex, PoisonError};

use super::attention::{AttnDims, AttnGrads, AttnOptions, AttnSaved, Qkv};
use super::attention_infer::dot;
use super::gemm::Triangle;
use super::matmul::{matmul_triangular, MatmulDims, MatmulForm};
use crate::error::Result;
use crate::math::{fast_exp, fast_exp4};
use crate::par::for_each_range;
use crate::simd::{F32x4, LANES};

/// Heads per task: enough `T²·D` work that a task is worth a thread.
fn min_pairs(dims: AttnDims) -> usize {
    ((1 << 16) / (dims.t * dims.t * dims.d).max(1)).max(1)
}

/// Writes the masked, scaled, biased scores of one head into `s: [T, T]` (`S` from the
/// engine on entry) and turns each row into probabilities; returns each row's log-sum-exp
/// through `lse` (`-inf`, and a zero row, when no key is allowed). The max, exponentials, sum
/// and normalisation run on [`F32x4`] lanes (the row's last `len % 4` keys one at a time).
/// Without padding or bias (GPT) the scale is applied inside the exponential, `exp(scale·S −
/// scale·max S)`, so the scores are read, not rewritten, before it: the same values as
/// scaling first, since rounding is monotone.
pub(super) fn softmax_rows(
    s: &mut [f32],
    lse: &mut [f32],
    t: usize,
    scale: f32,
    causal: bool,
    pad: Option<&[u8]>,
    bias: Option<&[f32]>,
) {
    let plain = pad.is_none() && bias.is_none();
    for (i, row) in s.chunks_exact_mut(t).enumerate() {
        // Keys after i (causal) get P = 0 without scoring them.
        let n_live = if causal { i + 1 } else { t };
        // The exponent of key j is a·x_j − c.
        let a = if plain {
            scale
        } else {
            write_logits(&mut row[..n_live], i, t, scale, pad, bias);
            1.0
        };
        let max = row_max(&row[..n_live]);
        if max == f32::NEG_INFINITY {
            row.iter_mut().for_each(|x| *x = 0.0);
            lse[i] = f32::NEG_INFINITY;
            continue;
        }
        let c = a * max;
        let sum = exp_in_place(&mut row[..n_live], a, c);
        scale_live_zero_rest(row, n_live, 1.0 / sum);
        lse[i] = c + sum.ln();
    }
}

/// The probabilities of [`softmax_rows`] again, from the scores `s: [T, T]` and the saved
/// log-sum-exp `lse: [T]` in one pass: `P = exp(S·scale + bias − lse)` (0 for masked and
/// future keys, and for rows without keys, `lse = −inf`). Equal to the forward's `P` up to
/// rounding (`exp(x − m) / l` there).
pub(super) fn probs_from_lse(
    s: &mut [f32],
    lse: &[f32],
    t: usize,
    scale: f32,
    causal: bool,
    pad: Option<&[u8]>,
    bias: Option<&[f32]>,
) {
    let plain = pad.is_none() && bias.is_none();
    for (i, row) in s.chunks_exact_mut(t).enumerate() {
        let n_live = live_keys(lse[i], i, t, causal);
        let a = if plain {
            scale
        } else {
            write_logits(&mut row[..n_live], i, t, scale, pad, bias);
            1.0
        };
        exp_in_place(&mut row[..n_live], a, lse[i]);
        scale_live_zero_rest(row, n_live, 1.0);
    }
}

/// Keys of row `i` with a nonzero probability, given its log-sum-exp: none when it is `-inf`
/// (every key masked), else the first `i + 1` (causal) or all `t`.
fn live_keys(lse: f32, i: usize, t: usize, causal: bool) -> usize {
    match (lse != f32::NEG_INFINITY, causal) {
        (false, _) => 0,
        (true, true) => i + 1,
        (true, false) => t,
    }
}

/// Row `i`'s live scores turned into logits in place: `x·scale + bias[i, j]`, or `-inf` for a
/// padded key.
fn write_logits(
    live: &mut [f32],
    i: usize,
    t: usize,
    scale: f32,
    pad: Option<&[u8]>,
    bias: Option<&[f32]>,
) {
    let bias_row = bias.map(|b| &b[i * t..i * t + live.len()]);
    for (j, x) in live.iter_mut().enumerate() {
        let allowed = pad.is_none_or(|p| p[j] != 0);
        *x = if allowed { *x * scale + bias_row.map_or(0.0, |b| b[j]) } else { f32::NEG_INFINITY };
    }
}

/// The largest entry, NaN ignored (`-inf` for none).
fn row_max(x: &[f32]) -> f32 {
    let split = x.len() - x.len() % LANES;
    let mut max4 = F32x4::splat(f32::NEG_INFINITY);
    for c in x[..split].chunks_exact(LANES) {
        max4 = max4.max_ignoring_nan(F32x4::load(c));
    }
    max4.to_array().into_iter().chain(x[split..].iter().copied()).fold(f32::NEG_INFINITY, f32::max)
}

/// `x ← exp(a·x − c)` (lanes and tail alike: a product, then a difference); returns the sum.
fn exp_in_place(x: &mut [f32], a: f32, c: f32) -> f32 {
    let split = x.len() - x.len() % LANES;
    let (body, tail) = x.split_at_mut(split);
    let (a4, c4) = (F32x4::splat(a), F32x4::splat(c));
    let mut sum4 = F32x4::zero();
    for v in body.chunks_exact_mut(LANES) {
        let e = fast_exp4(F32x4::load(v) * a4 - c4);
        e.store(v);
        sum4 = sum4 + e;
    }
    let mut sum = sum4.horizontal_sum();
    for x in tail.iter_mut() {
        *x = fast_exp(*x * a - c);
        sum += *x;
    }
    sum
}

/// `row[..n_live] *= factor` and the rest of the row zeroed, in one loop (a loop that only
/// stored zeros would become a `memory.fill` call per row).
fn scale_live_zero_rest(row: &mut [f32], n_live: usize, factor: f32) {
    let split = n_live - n_live % LANES;
    let (body, rest) = row.split_at_mut(split);
    if factor != 1.0 {
        let f4 = F32x4::splat(factor);
        for c in body.chunks_exact_mut(LANES) {
            (F32x4::load(c) * f4).store(c);
        }
    }
    for (j, x) in rest.iter_mut().enumerate() {
        *x = if split + j < n_live { *x * factor } else { 0.0 };
    }
}

/// `dS = P ⊙ (dP − δ) · factor` for one row, `δ = rowsum(dO ⊙ O)`, over its `n_live` keys, and
/// 0 after them (where `dP` may be unwritten). `ds` holds `dP` on entry.
fn ds_row(ds: &mut [f32], p: &[f32], n_live: usize, delta: f32, factor: f32) {
    let split = n_live - n_live % LANES;
    let (body, rest) = ds.split_at_mut(split);
    let (d4, f4) = (F32x4::splat(delta), F32x4::splat(factor));
    for (x, pc) in body.chunks_exact_mut(LANES).zip(p.chunks_exact(LANES)) {
        (F32x4::load(pc) * (F32x4::load(x) - d4) * f4).store(x);
    }
    for (j, (x, &pij)) in rest.iter_mut().zip(&p[split..]).enumerate() {
        *x = if split + j < n_live { pij * (*x - delta) * factor } else { 0.0 };
    }
}

/// The [`Triangle`]s of the products `(S or dP, P or dS as the left operand, its transpose)`.
fn triangles(causal: bool) -> (Triangle, Triangle, Triangle) {
    if causal {
        (Triangle::OutLower, Triangle::ALower, Triangle::AUpper)
    } else {
        (Triangle::Full, Triangle::Full, Triangle::Full)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Forward of every head; see the module doc. With `probs: [B, H, T, T]`, each head's
/// probabilities are built there (and kept) instead of in a task's scratch.
pub(crate) fn forward_heads(
    out: &mut [f32],
    lse: &mut [f32],
    probs: Option<&mut [f32]>,
    x: Qkv<'_>,
    dims: AttnDims,
    options: AttnOptions<'_>,
) -> Result<()> {
    let Qkv { q, k, v } = x;
    let AttnDims { b: _, h, t, d } = dims;
    let head = t * d;
    let scale = 1.0 / (d as f32).sqrt();
    let (scores, lower, _) = triangles(options.causal);
    let saving = probs.is_some();
    let mut kept = probs.into_iter().flat_map(|p| p.chunks_mut(t * t));
    type Slot<'s> = (&'s mut [f32], &'s mut [f32], Option<&'s mut [f32]>);
    let slots: Vec<Mutex<Slot<'_>>> = out
        .chunks_mut(head)
        .zip(lse.chunks_mut(t))
        .map(|(o, l)| Mutex::new((o, l, kept.next())))
        .collect();
    let failure: Mutex<Option<crate::Error>> = Mutex::new(None);
    for_each_range(slots.len(), min_pairs(dims), |pairs| {
        let mut scratch = if saving { Vec::new() } else { vec![0.0f32; t * t] };
        for pair in pairs {
            let (bb, hh) = (pair / h, pair % h);
            let rows = pair * head..(pair + 1) * head;
            let mut slot = lock(&slots[pair]);
            let (out_h, lse_h, kept_h) = &mut *slot;
            let s: &mut [f32] = match kept_h.as_deref_mut() {
                Some(p) => p,
                None => &mut scratch,
            };
            let result = (|| {
                // S = Q Kᵀ
                matmul_triangular(
                    s,
                    &q[rows.clone()],
                    &k[rows.clone()],
                    MatmulDims::new(t, d, t),
                    MatmulForm::ABt,
                    scores,
                )?;
                let pad = options.key_padding.map(|p| &p[bb * t..(bb + 1) * t]);
                let bias = options.bias.map(|bi| &bi[hh * t * t..(hh + 1) * t * t]);
                softmax_rows(s, lse_h, t, scale, options.causal, pad, bias);
                // O = P V
                matmul_triangular(
                    out_h,
                    s,
                    &v[rows.clone()],
                    MatmulDims::new(t, t, d),
                    MatmulForm::AB,
                    lower,
                )
            })();
            if let Err(e) = result {
                *lock(&failure) = Some(e);
            }
        }
    });
    failure.into_inner().unwrap_or_else(PoisonError::into_inner).map_or(Ok(()), Err)
}

/// Backward of every head; see the module doc.
///
/// Without a bias gradient every `(b, h)` pair is a task of its own. With one (`dbias:
/// [H, T, T]`, summed over the batch), a task is a whole head: it adds its `B` pairs' `dS` into
/// `dbias[h]` in batch order, so the sum is the same bits on any number of threads.
pub(crate) fn backward_heads(
    grads: AttnGrads<'_>,
    dout: &[f32],
    saved: AttnSaved<'_>,
    x: Qkv<'_>,
    dims: AttnDims,
    options: AttnOptions<'_>,
) -> Result<()> {
    let (AttnGrads { dq, dk, dv, dbias }, saved, x) = (grads, saved, x);
    let AttnDims { b, h, t, d } = dims;
    let head = t * d;
    type Grads<'g> = (&'g mut [f32], &'g mut [f32], &'g mut [f32]);
    let slots: Vec<Mutex<Grads<'_>>> = dq
        .chunks_mut(head)
        .zip(dk.chunks_mut(head))
        .zip(dv.chunks_mut(head))
        .map(|((a, b), c)| Mutex::new((a, b, c)))
        .collect();
    let pass = HeadPass { dout, saved, x, dims, options };
    let failure: Mutex<Option<crate::Error>> = Mutex::new(None);
    let record = |result: Result<()>| {
        if let Err(e) = result {
            *lock(&failure) = Some(e);
        }
    };
    match dbias {
        None => for_each_range(slots.len(), min_pairs(dims), |pairs| {
            let mut scratch = pass.scratch();
            for pair in pairs {
                record(pass.run(pair, &mut lock(&slots[pair]), None, &mut scratch));
            }
        }),
        Some(db) => {
            let heads: Vec<Mutex<&mut [f32]>> = db.chunks_mut(t * t).map(Mutex::new).collect();
            for_each_range(h, min_pairs(dims).div_ceil(b.max(1)), |task_heads| {
                let mut scratch = pass.scratch();
                for hh in task_heads {
                    let mut dbh = lock(&heads[hh]);
                    for bb in 0..b {
                        let pair = bb * h + hh;
                        let slot = &mut lock(&slots[pair]);
                        record(pass.run(pair, slot, Some(&mut dbh), &mut scratch));
                    }
                }
            });
        }
    }
    failure.into_inner().unwrap_or_else(PoisonError::into_inner).map_or(Ok(()), Err)
}

/// What every head's backward reads; [`HeadPass::run`] does one `(b, h)` pair.
struct HeadPass<'a> {
    dout: &'a [f32],
    saved: AttnSaved<'a>,
    x: Qkv<'a>,
    dims: AttnDims,
    options: AttnOptions<'a>,
}

/// A task's `[T, T]` buffers: `dS`, and `P` when it is rebuilt from the log-sum-exp.
struct HeadScratch {
    ds: Vec<f32>,
    rebuilt: Vec<f32>,
}

impl HeadPass<'_> {
    fn scratch(&self) -> HeadScratch {
        let tt = self.dims.t * self.dims.t;
        let rebuilt = if self.saved.probs.is_some() { Vec::new() } else { vec![0.0f32; tt] };
        HeadScratch { ds: vec![0.0f32; tt], rebuilt }
    }

    /// Backward of head `pair = b·H + h`: assigns its `dq, dk, dv: [T, D]` and, with `dbias`
    /// (this head's `[T, T]`), adds its `dS` there.
    fn run(
        &self,
        pair: usize,
        grads: &mut (&mut [f32], &mut [f32], &mut [f32]),
        dbias: Option<&mut [f32]>,
        scratch: &mut HeadScratch,
    ) -> Result<()> {
        let AttnSaved { out, lse, probs } = self.saved;
        let Qkv { q, k, v } = self.x;
        let AttnDims { b: _, h, t, d } = self.dims;
        let options = self.options;
        let head = t * d;
        let scale = 1.0 / (d as f32).sqrt();
        let (scores, lower, upper) = triangles(options.causal);
        let HeadScratch { ds, rebuilt } = scratch;
        let (bb, hh) = (pair / h, pair % h);
        let rows = pair * head..(pair + 1) * head;
        let (qh, kh, vh, oh, doh) = (
            &q[rows.clone()],
            &k[rows.clone()],
            &v[rows.clone()],
            &out[rows.clone()],
            &self.dout[rows.clone()],
        );
        let (dqh, dkh, dvh) = grads;
        let saved = &lse[pair * t..(pair + 1) * t];
        let p: &[f32] = match probs {
            Some(all) => &all[pair * t * t..(pair + 1) * t * t],
            None => {
                // P rebuilt from the saved log-sum-exp: S = Q Kᵀ, P = exp(S·scale + bias − lse)
                matmul_triangular(
                    rebuilt,
                    qh,
                    kh,
                    MatmulDims::new(t, d, t),
                    MatmulForm::ABt,
                    scores,
                )?;
                let pad = options.key_padding.map(|m| &m[bb * t..(bb + 1) * t]);
                let bias = options.bias.map(|bi| &bi[hh * t * t..(hh + 1) * t * t]);
                probs_from_lse(rebuilt, saved, t, scale, options.causal, pad, bias);
                rebuilt
            }
        };
        // O = P V  →  dP = dO Vᵀ
        matmul_triangular(ds, doh, vh, MatmulDims::new(t, d, t), MatmulForm::ABt, scores)?;
        // dS = P ⊙ (dP − rowsum(dO ⊙ O)); rows without keys have P = 0 (and lse = −inf).
        // Causal: keys after i have P = 0, and dP there may be unwritten: dS = 0.
        // The score scale is folded in here unless dbias needs dS itself.
        let factor = if dbias.is_some() { 1.0 } else { scale };
        for i in 0..t {
            let delta = dot(&doh[i * d..(i + 1) * d], &oh[i * d..(i + 1) * d]);
            let n_live = live_keys(saved[i], i, t, options.causal);
            ds_row(&mut ds[i * t..(i + 1) * t], &p[i * t..(i + 1) * t], n_live, delta, factor);
        }
        if let Some(dbh) = dbias {
            // S = … + bias[h, i, j]  →  dbias[h, i, j] += dS[i, j]
            dbh.iter_mut().zip(ds.iter()).for_each(|(acc, &g)| *acc += g);
            ds.iter_mut().for_each(|x| *x *= scale);
        }
        // O = P V  →  dV = Pᵀ dO
        matmul_triangular(dvh, p, doh, MatmulDims::new(t, t, d), MatmulForm::AtB, upper)?;
        // S = Q Kᵀ · scale  →  dQ = dS K · scale,  dK = dSᵀ Q · scale
        matmul_triangular(dqh, ds, kh, MatmulDims::new(t, t, d), MatmulForm::AB, lower)?;
        matmul_triangular(dkh, ds, qh, MatmulDims::new(t, t, d), MatmulForm::AtB, upper)
    }
}

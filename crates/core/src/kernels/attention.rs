//! Multi-head scaled dot-product attention, forward and backward, flash-attention style: the
//! forward saves only the per-row log-sum-exp and the backward recomputes the probabilities,
//! so no `[T, T]` buffer per head is ever stored.
//!
//! Math, per batch `b`, head `h` and query row `i` (scale `= 1/sqrt(D)`):
//! `S[i, j] = q_i · k_j · scale + bias[h, i, j]` for allowed keys `j`, `-inf` otherwise;
//! `P = softmax(S)` row-wise, `out_i = Σ_j P[i, j] v_j`, `lse_i = log Σ_j exp(S[i, j])`.
//! Key `j` is allowed for query `i` when `key_padding[b, j] != 0` (a real token) and, if
//! `causal`, `j <= i`. Backward: `dV = Pᵀ dO`, `dP = dO Vᵀ`, `dS = P ⊙ (dP − rowsum(dO ⊙ O))`,
//! `dQ = dS K · scale`, `dK = dSᵀ Q · scale`, `dbias = Σ_b dS`.
//!
//! Shapes: `q, k, v, out: [B, H, T, D]` (heads already split out of `[B, T, C]`), `lse:
//! [B, H, T]`, `key_padding: [B, T]`, `bias: [H, T, T]`.
//!
//! Rows with NO allowed key (e.g. every key padded) give `out_i = 0`, `lse_i = -inf` and zero
//! gradients (`dq_i = 0`, no contribution to `dk`, `dv`, `dbias`), never NaN. `bias` may hold
//! `-inf` (an extra mask) but not `+inf` or NaN.
//!
//! Accumulation: `_forward` assigns `out` and the cache; `_backward` ASSIGNS (`=`) `dq`, `dk`,
//! `dv` (activation gradients) and ADDS (`+=`) into `dbias` (a parameter gradient).
//!
//! Memory: the training forward and backward (`attention_heads.rs`) hold `[T, T]` scratch per
//! task (training sequences are at most `block_size`). [`attention_forward_infer`] never does:
//! it takes blocks of 64 query rows against tiles of 128 keys through the matmul engine with an
//! online softmax (running max and sum per row), so its scratch is one `[64, 128]` score tile
//! per thread; it allows `t_q < t_k` (a KV cache). The KV-cache decode scores one query row at
//! a time (`attention_infer::attend_row`, 64-key tiles). Both live in `attention_infer.rs`.

use crate::error::{check_len, checked_product, Error, Result};

/// Sizes of a training attention call: `q, k, v, out: [B, H, T, D]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttnDims {
    /// `B`, batch.
    pub b: usize,
    /// `H`, heads.
    pub h: usize,
    /// `T`, sequence length (queries and keys).
    pub t: usize,
    /// `D`, head dim.
    pub d: usize,
}

/// Sizes of an inference call: `q, out: [B, H, t_q, D]`, `k, v: [B, H, t_k, D]`. The queries
/// are the LAST `t_q` of the `t_k` positions (query `i` sits at position `t_k - t_q + i`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttnInferDims {
    /// `B`, batch.
    pub b: usize,
    /// `H`, heads.
    pub h: usize,
    /// Query rows, `1 <= t_q <= t_k`.
    pub t_q: usize,
    /// Key / value rows.
    pub t_k: usize,
    /// `D`, head dim.
    pub d: usize,
}

/// Masks and bias. `Default` is plain non-causal attention.
#[derive(Clone, Copy, Debug, Default)]
pub struct AttnOptions<'a> {
    /// Query `i` attends only to keys `j <= i` (position-wise for [`AttnInferDims`]).
    pub causal: bool,
    /// `[B, T]` (`[B, t_k]` for inference): nonzero = a real token that may be attended to,
    /// `0` = padding, masked as a key.
    pub key_padding: Option<&'a [u8]>,
    /// `[H, T, T]` (`[H, t_q, t_k]` for inference): added to the scores before the softmax
    /// (ALiBi, learned relative positions).
    pub bias: Option<&'a [f32]>,
}

/// The inputs of a training attention call: `q, k, v: [B, H, T, D]`.
#[derive(Clone, Copy, Debug)]
pub struct Qkv<'a> {
    /// `[B, H, T, D]` queries.
    pub q: &'a [f32],
    /// `[B, H, T, D]` keys.
    pub k: &'a [f32],
    /// `[B, H, T, D]` values.
    pub v: &'a [f32],
}

/// The gradients the backwards write: `dq, dk, dv: [B, H, T, D]` are ASSIGNED, `dbias:
/// [H, T, T]` (summed over the batch) is ADDED into.
#[derive(Debug)]
pub struct AttnGrads<'a> {
    /// `[B, H, T, D]`.
    pub dq: &'a mut [f32],
    /// `[B, H, T, D]`.
    pub dk: &'a mut [f32],
    /// `[B, H, T, D]`.
    pub dv: &'a mut [f32],
    /// `[H, T, T]`; `None`: no bias, or its gradient is not wanted.
    pub dbias: Option<&'a mut [f32]>,
}

/// What [`attention_forward_lse`] produced and saved, as slices, for
/// [`attention_backward_lse`].
#[derive(Clone, Copy, Debug)]
pub struct AttnSaved<'a> {
    /// `[B, H, T, D]` the forward's output.
    pub out: &'a [f32],
    /// `[B, H, T]` per-row log-sum-exp.
    pub lse: &'a [f32],
    /// `[B, H, T, T]` the probabilities, when the forward kept them (else recomputed).
    pub probs: Option<&'a [f32]>,
}

/// Saved state of [`attention_forward`] for [`attention_backward`].
#[derive(Clone, Debug, PartialEq)]
pub struct AttnCache {
    /// `[B, H, T]`: `log Σ_j exp(S[i, j])` per query row, `-inf` for rows with no allowed key.
    pub lse: Vec<f32>,
}

impl AttnCache {
    /// A zeroed cache sized for `dims`.
    pub fn new(dims: AttnDims) -> Result<Self> {
        Ok(Self { lse: vec![0.0; checked_product("attention: lse", &[dims.b, dims.h, dims.t])?] })
    }
}

impl AttnDims {
    /// `B, H, T, D`.
    pub fn new(b: usize, h: usize, t: usize, d: usize) -> Self {
        Self { b, h, t, d }
    }

    fn infer(self) -> AttnInferDims {
        AttnInferDims { b: self.b, h: self.h, t_q: self.t, t_k: self.t, d: self.d }
    }

    /// Checks `q, k, v, out: [B, H, T, D]` and the options' `key_padding: [B, T]`, `bias:
    /// [H, T, T]`; zero dimensions are [`Error::InvalidArgument`].
    pub fn check(
        &self,
        q_len: usize,
        k_len: usize,
        v_len: usize,
        out_len: usize,
        options: &AttnOptions<'_>,
    ) -> Result<()> {
        self.infer().check(q_len, k_len, v_len, out_len, options)
    }
}

impl AttnInferDims {
    /// `B, H, t_q, t_k, D`.
    pub fn new(b: usize, h: usize, t_q: usize, t_k: usize, d: usize) -> Self {
        Self { b, h, t_q, t_k, d }
    }

    /// Checks `q, out: [B, H, t_q, D]`, `k, v: [B, H, t_k, D]`, `key_padding: [B, t_k]`,
    /// `bias: [H, t_q, t_k]`; zero dimensions and `t_q > t_k` are [`Error::InvalidArgument`].
    pub fn check(
        &self,
        q_len: usize,
        k_len: usize,
        v_len: usize,
        out_len: usize,
        options: &AttnOptions<'_>,
    ) -> Result<()> {
        let Self { b, h, t_q, t_k, d } = *self;
        if [b, h, t_q, t_k, d].contains(&0) {
            return Err(Error::InvalidArgument(format!("attention: zero dimension in {self:?}")));
        }
        if t_q > t_k {
            return Err(Error::InvalidArgument(format!("attention: t_q {t_q} > t_k {t_k}")));
        }
        let len = |what: &str, dims: &[usize], got: usize| {
            check_len(what, checked_product(what, dims)?, got)
        };
        len("attention: q", &[b, h, t_q, d], q_len)?;
        len("attention: k", &[b, h, t_k, d], k_len)?;
        len("attention: v", &[b, h, t_k, d], v_len)?;
        len("attention: out", &[b, h, t_q, d], out_len)?;
        let pad_len = options.key_padding.map_or(b * t_k, <[u8]>::len);
        len("attention: key_padding", &[b, t_k], pad_len)?;
        len("attention: bias", &[h, t_q, t_k], options.bias.map_or(h * t_q * t_k, <[f32]>::len))
    }
}

/// `out = softmax(q kᵀ / sqrt(D) + bias + mask) v`, saving `cache.lse` for the backward.
///
/// `out: [B, H, T, D]`, `cache.lse: [B, H, T]`, `x.q, x.k, x.v: [B, H, T, D]`; options as in
/// [`AttnOptions`]. Query rows are split over [`crate::par`] threads.
pub fn attention_forward(
    out: &mut [f32],
    cache: &mut AttnCache,
    x: Qkv<'_>,
    dims: AttnDims,
    options: AttnOptions<'_>,
) -> Result<()> {
    attention_forward_lse(out, &mut cache.lse, None, x, dims, options)
}

/// [`attention_forward`] with the saved state as a slice (for planned arenas), and optionally
/// the probabilities for the backward to read instead of recomputing them.
///
/// `out: [B, H, T, D]`, `lse: [B, H, T]` (assigned), `probs: [B, H, T, T]` (assigned; zeros
/// above the diagonal when causal), `x.q, x.k, x.v: [B, H, T, D]`.
pub fn attention_forward_lse(
    out: &mut [f32],
    lse: &mut [f32],
    probs: Option<&mut [f32]>,
    x: Qkv<'_>,
    dims: AttnDims,
    options: AttnOptions<'_>,
) -> Result<()> {
    dims.check(x.q.len(), x.k.len(), x.v.len(), out.len(), &options)?;
    check_len("attention: lse", dims.b * dims.h * dims.t, lse.len())?;
    if let Some(p) = &probs {
        check_len(
            "attention: probs",
            checked_product("attention: probs", &[dims.b, dims.h, dims.t, dims.t])?,
            p.len(),
        )?;
    }
    super::attention_heads::forward_heads(out, lse, probs, x, dims, options)
}

/// Gradients of [`attention_forward`]: ASSIGNS `grads.dq`, `grads.dk`, `grads.dv`, ADDS into
/// `grads.dbias`.
///
/// `grads.dq, grads.dk, grads.dv, dout: [B, H, T, D]`, `grads.dbias: [H, T, T]` (summed over
/// the batch), `out` and `cache` from the forward, `x.q, x.k, x.v: [B, H, T, D]` as in the
/// forward, same `options`. `(b, h)` pairs are split over threads.
pub fn attention_backward(
    grads: AttnGrads<'_>,
    dout: &[f32],
    out: &[f32],
    cache: &AttnCache,
    x: Qkv<'_>,
    dims: AttnDims,
    options: AttnOptions<'_>,
) -> Result<()> {
    let saved = AttnSaved { out, lse: &cache.lse, probs: None };
    attention_backward_lse(grads, dout, saved, x, dims, options)
}

/// [`attention_backward`] with the saved state as slices: `saved.lse: [B, H, T]` from
/// [`attention_forward_lse`], and the probabilities `saved.probs: [B, H, T, T]` it saved when
/// given (else they are recomputed from `q`, `k` and `lse`); other buffers as there.
pub fn attention_backward_lse(
    grads: AttnGrads<'_>,
    dout: &[f32],
    saved: AttnSaved<'_>,
    x: Qkv<'_>,
    dims: AttnDims,
    options: AttnOptions<'_>,
) -> Result<()> {
    dims.check(x.q.len(), x.k.len(), x.v.len(), saved.out.len(), &options)?;
    let n = x.q.len();
    let AttnGrads { dq, dk, dv, dbias } = &grads;
    for (what, len) in [("dq", dq.len()), ("dk", dk.len()), ("dv", dv.len()), ("dout", dout.len())]
    {
        check_len(&format!("attention: {what}"), n, len)?;
    }
    let AttnDims { b: _, h, t, d } = dims;
    check_len("attention: lse", n / d, saved.lse.len())?;
    check_len("attention: dbias", h * t * t, dbias.as_deref().map_or(h * t * t, <[f32]>::len))?;
    if let Some(p) = saved.probs {
        check_len(
            "attention: probs",
            checked_product("attention: probs", &[dims.b, h, t, t])?,
            p.len(),
        )?;
    }
    super::attention_heads::backward_heads(grads, dout, saved, x, dims, options)
}

/// Inference forward: the same tiled online-softmax forward as [`attention_forward`] but
/// without saving state, and with `t_q <= t_k` queries (the last `t_q` positions of a KV
/// cache; the causal mask is offset accordingly). Never called by the trainer.
///
/// `out: [B, H, t_q, D]`, `q: [B, H, t_q, D]`, `k, v: [B, H, t_k, D]`, `key_padding: [B, t_k]`,
/// `bias: [H, t_q, t_k]`. Memory does not depend on `t_q · t_k`.
pub fn attention_forward_infer(
    out: &mut [f32],
    q: &[f32],
    k: &[f32],
    v: &[f32],
    dims: AttnInferDims,
    options: AttnOptions<'_>,
) -> Result<()> {
    dims.check(q.len(), k.len(), v.len(), out.len(), &options)?;
    super::attention_infer::forward_blocks(out, q, k, v, dims, options);
    Ok(())
}

/// The spec: plain f64 loops that materialise `S` and `P` per head.
pub mod reference {
    use super::{AttnDims, AttnGrads, AttnOptions, Qkv};
    use crate::error::{check_len, Result};

    /// `(P: [T, T], lse: [T])` of one head.
    type P = (Vec<f64>, Vec<f64>);
    type Opt<'a> = AttnOptions<'a>;

    /// `(P: [T, T], lse: [T])` for head `(bb, hh)`; rows with no allowed key get `P = 0` and
    /// `lse = -inf`.
    fn probs(q: &[f32], k: &[f32], dims: AttnDims, opt: &Opt, bb: usize, hh: usize) -> P {
        let (AttnDims { h, t, d, .. }, options) = (dims, opt);
        let base = (bb * h + hh) * t * d;
        let scale = 1.0 / (d as f64).sqrt();
        let (mut p, mut lse) = (vec![f64::NEG_INFINITY; t * t], vec![f64::NEG_INFINITY; t]);
        for i in 0..t {
            for j in 0..t {
                let allowed = !(options.causal && j > i)
                    && options.key_padding.is_none_or(|pad| pad[bb * t + j] != 0);
                if allowed {
                    let s: f64 = (0..d)
                        .map(|c| f64::from(q[base + i * d + c]) * f64::from(k[base + j * d + c]))
                        .sum();
                    let bias = options.bias.map_or(0.0, |bi| f64::from(bi[(hh * t + i) * t + j]));
                    p[i * t + j] = s * scale + bias;
                }
            }
            let row = &mut p[i * t..(i + 1) * t];
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if m == f64::NEG_INFINITY {
                row.fill(0.0);
                continue;
            }
            let sum: f64 = row.iter().map(|s| (s - m).exp()).sum();
            row.iter_mut().for_each(|s| *s = (*s - m).exp() / sum);
            lse[i] = m + sum.ln();
        }
        (p, lse)
    }

    /// The probabilities in f64, `P: [B, H, T, T]` (zero where masked): the spec of
    /// `attention_probs::attention_probs_infer`.
    pub fn attention_probs_f64(
        q: &[f32],
        k: &[f32],
        dims: AttnDims,
        options: AttnOptions<'_>,
    ) -> Result<Vec<f64>> {
        dims.check(q.len(), k.len(), q.len(), q.len(), &options)?;
        let (b, h) = (dims.b, dims.h);
        Ok((0..b * h).flat_map(|pair| probs(q, k, dims, &options, pair / h, pair % h).0).collect())
    }

    /// The forward in f64: `(out: [B, H, T, D], lse: [B, H, T])`.
    pub fn attention_forward_f64(
        q: &[f32],
        k: &[f32],
        v: &[f32],
        dims: AttnDims,
        options: AttnOptions<'_>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        dims.check(q.len(), k.len(), v.len(), q.len(), &options)?;
        let AttnDims { b, h, t, d } = dims;
        let (mut out, mut lse) = (vec![0.0; q.len()], Vec::with_capacity(b * h * t));
        for bb in 0..b {
            for hh in 0..h {
                let (p, head_lse) = probs(q, k, dims, &options, bb, hh);
                lse.extend(head_lse);
                let base = (bb * h + hh) * t * d;
                for i in 0..t {
                    for j in 0..t {
                        for c in 0..d {
                            out[base + i * d + c] += p[i * t + j] * f64::from(v[base + j * d + c]);
                        }
                    }
                }
            }
        }
        Ok((out, lse))
    }

    /// [`attention_forward_f64`] rounded to `f32`: `out: [B, H, T, D]`, `lse: [B, H, T]`.
    pub fn attention_forward_ref(
        out: &mut [f32],
        lse: &mut [f32],
        q: &[f32],
        k: &[f32],
        v: &[f32],
        dims: AttnDims,
        options: AttnOptions<'_>,
    ) -> Result<()> {
        check_len("attention: out", q.len(), out.len())?;
        check_len("attention: lse", dims.b * dims.h * dims.t, lse.len())?;
        let (o, l) = attention_forward_f64(q, k, v, dims, options)?;
        out.iter_mut().zip(&o).for_each(|(y, &x)| *y = x as f32);
        lse.iter_mut().zip(&l).for_each(|(y, &x)| *y = x as f32);
        Ok(())
    }

    /// The backward in f64, recomputing `P`: ASSIGNS `dq, dk, dv: [B, H, T, D]`, ADDS into
    /// `dbias: [H, T, T]`. `dout: [B, H, T, D]`.
    pub fn attention_backward_ref(
        grads: AttnGrads<'_>,
        dout: &[f32],
        x: Qkv<'_>,
        dims: AttnDims,
        options: AttnOptions<'_>,
    ) -> Result<()> {
        let (AttnGrads { dq, dk, dv, mut dbias }, Qkv { q, k, v }) = (grads, x);
        dims.check(q.len(), k.len(), v.len(), dout.len(), &options)?;
        let AttnDims { b, h, t, d } = dims;
        check_len("attention: dq", q.len(), dq.len())?;
        check_len("attention: dk", q.len(), dk.len())?;
        check_len("attention: dv", q.len(), dv.len())?;
        check_len("attention: dbias", h * t * t, dbias.as_deref().map_or(h * t * t, <[f32]>::len))?;
        let scale = 1.0 / (d as f64).sqrt();
        let f = |x: &[f32], i: usize| f64::from(x[i]);
        for bb in 0..b {
            for hh in 0..h {
                let (p, _) = probs(q, k, dims, &options, bb, hh);
                let base = (bb * h + hh) * t * d;
                let [mut gq, mut gk, mut gv] = [(); 3].map(|()| vec![0.0f64; t * d]);
                for i in 0..t {
                    // dP[i, j] = dO_i · v_j;  delta_i = Σ_j P[i, j] dP[i, j] (= dO_i · O_i)
                    let dp: Vec<f64> = (0..t)
                        .map(|j| {
                            (0..d).map(|c| f(dout, base + i * d + c) * f(v, base + j * d + c)).sum()
                        })
                        .collect();
                    let delta: f64 = (0..t).map(|j| p[i * t + j] * dp[j]).sum();
                    for j in 0..t {
                        let pij = p[i * t + j];
                        let ds = pij * (dp[j] - delta);
                        for c in 0..d {
                            gv[j * d + c] += pij * f(dout, base + i * d + c);
                            gq[i * d + c] += ds * scale * f(k, base + j * d + c);
                            gk[j * d + c] += ds * scale * f(q, base + i * d + c);
                        }
                        if let Some(db) = dbias.as_deref_mut() {
                            db[(hh * t + i) * t + j] += ds as f32;
                        }
                    }
                }
                for (dst, src) in [(&mut *dq, &gq), (&mut *dk, &gk), (&mut *dv, &gv)] {
                    dst[base..base + t * d].iter_mut().zip(src).for_each(|(y, &x)| *y = x as f32);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::reference::{attention_backward_ref, attention_forward_f64, attention_forward_ref};
    use super::*;
    use crate::kernels::attention_probs::attention_probs_infer;
    use crate::testing::{assert_close, gradcheck, random_vec, Rng};

    type Fwd = (Vec<f32>, AttnCache);
    type Opt<'a> = AttnOptions<'a>;

    /// One call's inputs: `q, k, v: [B, H, T, D]`, `pad: [B, T]` (~1 in 4 keys padded),
    /// `bias: [H, T, T]`.
    struct Inputs {
        dims: AttnDims,
        q: Vec<f32>,
        k: Vec<f32>,
        v: Vec<f32>,
        pad: Vec<u8>,
        bias: Vec<f32>,
    }

    impl Inputs {
        fn new(dims: AttnDims, seed: u64) -> Self {
            let AttnDims { b, h, t, d } = dims;
            let n = b * h * t * d;
            let mut rng = Rng::new(seed);
            let pad = (0..b * t).map(|_| u8::from(rng.below(4) != 0)).collect();
            let bias = random_vec(h * t * t, seed + 4).iter().map(|x| 2.0 * x).collect();
            let (q, k, v) =
                (random_vec(n, seed + 1), random_vec(n, seed + 2), random_vec(n, seed + 3));
            Self { dims, q, k, v, pad, bias }
        }

        /// Options from the bits of `mask`: 1 causal, 2 key padding, 4 bias.
        fn options(&self, mask: u32) -> AttnOptions<'_> {
            AttnOptions {
                causal: mask & 1 != 0,
                key_padding: (mask & 2 != 0).then_some(&self.pad[..]),
                bias: (mask & 4 != 0).then_some(&self.bias[..]),
            }
        }

        fn qkv(&self) -> Qkv<'_> {
            Qkv { q: &self.q, k: &self.k, v: &self.v }
        }

        fn forward(&self, opt: Opt) -> Fwd {
            let (mut out, mut cache) =
                (vec![0.0; self.q.len()], AttnCache::new(self.dims).unwrap());
            attention_forward(&mut out, &mut cache, self.qkv(), self.dims, opt).unwrap();
            (out, cache)
        }

        /// `[dq, dk, dv, dbias]` from the fast backward given the forward's `(out, cache)`
        /// (`dq, dk, dv` pre-filled with junk: they must be assigned), or from the reference
        /// without it; `dbias` starts from `dbias0`.
        fn grads(
            &self,
            dout: &[f32],
            dbias0: &[f32],
            fwd: Option<&Fwd>,
            opt: Opt,
        ) -> [Vec<f32>; 4] {
            let (n, dims, x) = (self.q.len(), self.dims, self.qkv());
            let mut g = [vec![7.0; n], vec![7.0; n], vec![7.0; n], dbias0.to_vec()];
            let [dq, dk, dv, db] = &mut g;
            let grads = AttnGrads { dq, dk, dv, dbias: Some(db) };
            match fwd {
                Some((o, c)) => attention_backward(grads, dout, o, c, x, dims, opt),
                None => attention_backward_ref(grads, dout, x, dims, opt),
            }
            .unwrap();
            g
        }
    }

    /// Fast forward + backward against the reference: out, lse, dq, dk, dv, dbias (`+=`).
    fn check_against_reference(x: &Inputs, opt: AttnOptions<'_>, seed: u64, what: &str) {
        let fwd = x.forward(opt);
        let (mut out_ref, mut lse_ref) = (vec![0.0; x.q.len()], vec![0.0; fwd.1.lse.len()]);
        attention_forward_ref(&mut out_ref, &mut lse_ref, &x.q, &x.k, &x.v, x.dims, opt).unwrap();
        assert_close(&fwd.0, &out_ref, 2e-5, 1e-4, &format!("{what} out"));
        // `-inf` (a row with no allowed key) becomes a sentinel that `assert_close` can compare.
        let fin = |l: &[f32]| l.iter().map(|&l| l.max(-1e30)).collect::<Vec<f32>>();
        assert_close(&fin(&fwd.1.lse), &fin(&lse_ref), 2e-5, 1e-5, &format!("{what} lse"));

        let dout = random_vec(x.q.len(), seed + 9);
        let dbias0 = random_vec(x.bias.len(), seed + 10);
        let got = x.grads(&dout, &dbias0, Some(&fwd), opt);
        let want = x.grads(&dout, &dbias0, None, opt);
        for (name, (got, want)) in ["dq", "dk", "dv", "dbias"].iter().zip(got.iter().zip(&want)) {
            assert_close(got, want, 1e-4, 1e-3, &format!("{what} {name}"));
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fast_matches_reference_on_ragged_shapes() {
        let mut seed = 0;
        for t in [1, 3, 17, 33] {
            for d in [1, 3, 8, 17] {
                seed += 100;
                let x = Inputs::new(AttnDims::new(2, 2, t, d), seed);
                for mask in 0..8 {
                    let what = format!("T={t} D={d} options mask {mask}");
                    check_against_reference(&x, x.options(mask), seed, &what);
                }
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn saved_probs_give_the_same_forward_and_backward() {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (t, d) in [(1, 3), (17, 8), (33, 5)] {
            let x = Inputs::new(AttnDims::new(2, 3, t, d), 40 + t as u64);
            let (n, AttnDims { b, h, .. }) = (x.q.len(), x.dims);
            for mask in 0..8 {
                let (what, opt) = (format!("T={t} D={d} options mask {mask}"), x.options(mask));
                let fwd = x.forward(opt);
                let (mut out, mut lse, mut probs) =
                    (vec![0.0; n], vec![0.0; b * h * t], vec![f32::NAN; b * h * t * t]);
                attention_forward_lse(&mut out, &mut lse, Some(&mut probs), x.qkv(), x.dims, opt)
                    .unwrap();
                assert_eq!(bits(&out), bits(&fwd.0), "{what} out");
                assert_eq!(bits(&lse), bits(&fwd.1.lse), "{what} lse");
                let mut want_probs = vec![0.0; probs.len()];
                attention_probs_infer(&mut want_probs, &x.q, &x.k, x.dims, opt).unwrap();
                assert_close(&probs, &want_probs, 1e-6, 1e-5, &format!("{what} probs"));

                let (dout, dbias0) = (random_vec(n, 41), random_vec(x.bias.len(), 42));
                let want = x.grads(&dout, &dbias0, Some(&fwd), opt);
                let mut got = [vec![7.0; n], vec![7.0; n], vec![7.0; n], dbias0.clone()];
                let [dq, dk, dv, db] = &mut got;
                let grads = AttnGrads { dq, dk, dv, dbias: Some(db) };
                let saved = AttnSaved { out: &out, lse: &lse, probs: Some(&probs) };
                attention_backward_lse(grads, &dout, saved, x.qkv(), x.dims, opt).unwrap();
                for (name, (got, want)) in
                    ["dq", "dk", "dv", "dbias"].iter().zip(got.iter().zip(&want))
                {
                    assert_close(got, want, 1e-5, 1e-4, &format!("{what} {name} from saved probs"));
                }
            }
        }
        let x = Inputs::new(AttnDims::new(1, 2, 4, 3), 9);
        let (n, opt) = (x.q.len(), x.options(1));
        let (mut out, mut lse, mut short) = (vec![0.0; n], vec![0.0; 8], vec![0.0; 31]);
        let r = attention_forward_lse(&mut out, &mut lse, Some(&mut short), x.qkv(), x.dims, opt);
        assert!(matches!(r, Err(Error::Shape { .. })));
        let (mut dq, mut dk, mut dv) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        let grads = AttnGrads { dq: &mut dq, dk: &mut dk, dv: &mut dv, dbias: None };
        let saved = AttnSaved { out: &out, lse: &lse, probs: Some(&short) };
        let r = attention_backward_lse(grads, &out, saved, x.qkv(), x.dims, opt);
        assert!(matches!(r, Err(Error::Shape { .. })));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn large_scores_stay_finite() {
        let mut x = Inputs::new(AttnDims::new(1, 2, 70, 8), 7); // 70 keys: two softmax tiles
        x.q.iter_mut().for_each(|v| *v *= 60.0);
        check_against_reference(&x, x.options(1 | 4), 7, "large scores");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn reference_backward_passes_gradcheck() {
        let dims = AttnDims::new(2, 2, 4, 3);
        let mut x = Inputs::new(dims, 21);
        // Batch 1 pads key 0, so with `causal` its query row 0 has no key at all.
        x.pad = vec![1, 1, 0, 1, 0, 1, 1, 1];
        for mask in [4, 1 | 2 | 4] {
            let opt = x.options(mask);
            let w = random_vec(x.q.len(), 22);
            let loss = |q: &[f32], k: &[f32], v: &[f32], bias: &[f32]| {
                let opt = AttnOptions { bias: Some(bias), ..opt };
                let (out, _) = attention_forward_f64(q, k, v, dims, opt).unwrap();
                out.iter().zip(&w).map(|(&o, &w)| o * f64::from(w)).sum::<f64>()
            };
            let [dq, dk, dv, dbias] = x.grads(&w, &vec![0.0; x.bias.len()], None, opt);
            let (q, k, v, b) = (&x.q, &x.k, &x.v, &x.bias);
            let (eps, atol, rtol) = (1e-3, 1e-5, 1e-3);
            gradcheck("dq", q, &dq, eps, atol, rtol, |p| loss(p, k, v, b));
            gradcheck("dk", k, &dk, eps, atol, rtol, |p| loss(q, p, v, b));
            gradcheck("dv", v, &dv, eps, atol, rtol, |p| loss(q, k, p, b));
            gradcheck("dbias", b, &dbias, eps, atol, rtol, |p| loss(q, k, v, p));
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn infer_equals_training_forward() {
        // T = 150: three query blocks and two key tiles; t_q = 70 starts a block mid-pair.
        for (t, d, t_qs) in [(19, 5, [1, 6]), (150, 9, [1, 70])] {
            infer_equals_training_forward_at(t, d, t_qs);
        }
    }

    fn infer_equals_training_forward_at(t: usize, d: usize, t_qs: [usize; 2]) {
        let x = Inputs::new(AttnDims::new(2, 3, t, d), 31);
        let b = x.dims.b;
        let h = x.dims.h;
        for mask in 0..8 {
            let opt = x.options(mask);
            let (out, _) = x.forward(opt);
            let mut out_infer = vec![0.0; x.q.len()];
            let full = AttnInferDims::new(b, h, t, t, d);
            attention_forward_infer(&mut out_infer, &x.q, &x.k, &x.v, full, opt).unwrap();
            // Tiled online softmax vs the training path's per-head matmuls: same math, other order.
            assert_close(&out_infer, &out, 1e-6, 1e-5, &format!("t_q = t_k, mask {mask}"));
            // KV cache: the last t_q queries against all t keys = the last t_q rows of `out`.
            for t_q in t_qs {
                let rows = |buf: &[f32], width: usize| -> Vec<f32> {
                    buf.chunks(t * width)
                        .flat_map(|head| head[(t - t_q) * width..].to_vec())
                        .collect()
                };
                let (q_last, bias_last) = (rows(&x.q, d), rows(&x.bias, t));
                let opt_last = AttnOptions { bias: opt.bias.map(|_| &bias_last[..]), ..opt };
                let mut got = vec![0.0; q_last.len()];
                let dims = AttnInferDims::new(b, h, t_q, t, d);
                attention_forward_infer(&mut got, &q_last, &x.k, &x.v, dims, opt_last).unwrap();
                assert_close(&got, &rows(&out, d), 1e-6, 1e-5, &format!("t_q={t_q} mask {mask}"));
            }
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn fully_padded_rows_give_zeros_not_nan() {
        let mut x = Inputs::new(AttnDims::new(2, 2, 5, 4), 41);
        // Batch 0: no real key at all. Batch 1: key 0 padded, so causal row 0 has no key.
        x.pad = vec![0, 0, 0, 0, 0, 0, 1, 0, 1, 1];
        let opt = x.options(1 | 2 | 4);
        let half = x.q.len() / 2;
        let fwd = x.forward(opt);
        assert!(fwd.0[..half].iter().all(|&o| o == 0.0));
        assert!(fwd.0[half..half + 4].iter().all(|&o| o == 0.0));
        assert!(fwd.1.lse[..10].iter().all(|&l| l == f32::NEG_INFINITY));
        let dbias0 = vec![0.0; x.bias.len()];
        let grads = x.grads(&random_vec(x.q.len(), 42), &dbias0, Some(&fwd), opt);
        for g in &grads[..3] {
            assert!(g[..half].iter().all(|&v| v == 0.0));
        }
        assert!(grads.iter().flatten().chain(&fwd.0).all(|v| v.is_finite()));
        check_against_reference(&x, opt, 43, "fully padded");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn shape_errors_are_returned() {
        let x = Inputs::new(AttnDims::new(2, 2, 3, 4), 51);
        let (dims, n) = (x.dims, x.q.len());
        let shape = |r: Result<()>, what: &str| match r {
            Err(Error::Shape { what: w, .. }) => assert_eq!(w, what),
            other => panic!("{what}: expected a shape error, got {other:?}"),
        };
        // Forward with `cut` elements dropped from [q, v, out, lse].
        let fwd = |cut: [usize; 4], dims: AttnDims, opt: AttnOptions<'_>| {
            let mut out = vec![0.0; n - cut[2]];
            let mut cache = AttnCache { lse: vec![0.0; n / 4 - cut[3]] };
            let qkv = Qkv { q: &x.q[cut[0]..], k: &x.k, v: &x.v[cut[1]..] };
            attention_forward(&mut out, &mut cache, qkv, dims, opt)
        };
        let opt = AttnOptions::default();
        shape(fwd([1, 0, 0, 0], dims, opt), "attention: q");
        shape(fwd([0, 1, 0, 0], dims, opt), "attention: v");
        shape(fwd([0, 0, 1, 0], dims, opt), "attention: out");
        shape(fwd([0, 0, 0, 1], dims, opt), "attention: lse");
        let bad_pad = AttnOptions { key_padding: Some(&x.pad[1..]), ..opt };
        shape(fwd([0; 4], dims, bad_pad), "attention: key_padding");
        let bad_bias = AttnOptions { bias: Some(&x.bias[1..]), ..opt };
        shape(fwd([0; 4], dims, bad_bias), "attention: bias");
        let r = fwd([0; 4], AttnDims::new(2, 0, 3, 4), opt);
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
        fwd([0; 4], dims, x.options(7)).unwrap();

        let (out, cache) = x.forward(opt);
        let (q, k, v) = (&x.q, &x.k, &x.v);
        let bwd = |dv_len: usize, dbias: Option<&mut [f32]>| {
            let (mut dq, mut dk, mut dv) = (vec![0.0; n], vec![0.0; n], vec![0.0; dv_len]);
            let grads = AttnGrads { dq: &mut dq, dk: &mut dk, dv: &mut dv, dbias };
            attention_backward(grads, q, &out, &cache, x.qkv(), dims, opt)
        };
        shape(bwd(n - 1, None), "attention: dv");
        shape(bwd(n, Some(&mut [0.0; 5])), "attention: dbias");

        let mut out = vec![0.0; n];
        let infer = AttnInferDims::new(2, 2, 3, 2, 4); // t_q > t_k
        let r = attention_forward_infer(&mut out, q, k, v, infer, opt);
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
        let infer = AttnInferDims::new(2, 2, 1, 3, 4);
        shape(attention_forward_infer(&mut out, q, k, v, infer, opt), "attention: q");
    }
}

//! Symmetric quantisation: weights to int8 once (packed with their scales into an
//! [`Int8Weight`]), activations to int16 per row on every call ([`quantize_rows`]).
//!
//! Shapes: `weight: [N, K]` → `q: [N, K8]` int8 + `scales: [N, n_blocks]`; `inp: [M, K]` →
//! `q: [M, K8]` int16 + `scales: [M]`. `K8` is K rounded up to a multiple of 8, the padding
//! zeros, so the kernels' 8-wide loops have no tail.

use super::SEGMENT;
use crate::error::{check_len, checked_product, Error, Result};

/// Largest int8 magnitude used (symmetric: −128 never occurs).
pub const Q8_MAX: f32 = 127.0;
/// Largest int16 magnitude used for activations (symmetric: −32768 never occurs).
pub const Q16_MAX: f32 = 32767.0;

/// Where the weight scales change along K.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scales {
    /// One scale per output channel (weight row).
    PerChannel,
    /// One scale per block of this many values along K (a multiple of 8, at most
    /// [`SEGMENT`]); `Block(32)` is GGUF `Q8_0`'s layout.
    Block(usize),
}

/// A `[N, K]` weight quantised to int8 and packed for the W8A16 kernels.
#[derive(Clone, Debug)]
pub struct Int8Weight {
    /// `[N, K8]` int8, each row zero-padded from K to `K8`.
    q: Vec<i8>,
    /// `[N, n_blocks]` f32: `ŵ[n, k] = scales[n, k / block] · q[n, k]`.
    scales: Vec<f32>,
    n: usize,
    k: usize,
    /// Values of K per scale (`K8` for per-channel).
    block: usize,
}

impl Int8Weight {
    /// Output channels N.
    pub fn n(&self) -> usize {
        self.n
    }

    /// Input features K.
    pub fn k(&self) -> usize {
        self.k
    }

    /// K rounded up to a multiple of 8: the stride of a packed row.
    pub fn k8(&self) -> usize {
        self.k.div_ceil(8) * 8
    }

    /// Values of K per scale (`K8` when per-channel).
    pub fn block(&self) -> usize {
        self.block
    }

    /// Scales per row.
    pub fn n_blocks(&self) -> usize {
        self.k8().div_ceil(self.block).max(1)
    }

    /// The packed values, `[N, K8]`.
    pub fn q(&self) -> &[i8] {
        &self.q
    }

    /// The scales, `[N, n_blocks]`.
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// Bytes held (values and scales).
    pub fn bytes(&self) -> usize {
        self.q.len() + 4 * self.scales.len()
    }

    /// `ŵ: [N, K]` as f32 (for tests and checks).
    pub fn dequantize(&self) -> Vec<f32> {
        let (k8, nb) = (self.k8(), self.n_blocks());
        let mut out = Vec::with_capacity(self.n * self.k);
        for j in 0..self.n {
            for p in 0..self.k {
                out.push(self.scales[j * nb + p / self.block] * f32::from(self.q[j * k8 + p]));
            }
        }
        out
    }
}

/// Quantises `weight: [N, K]` to int8 with `scales`.
/// Errors: [`Error::Shape`] on a wrong length, [`Error::InvalidArgument`] for a bad block size
/// or a non-finite weight, [`Error::OutOfMemory`] when the packed copy cannot be allocated.
pub fn quantize_weight(weight: &[f32], n: usize, k: usize, scales: Scales) -> Result<Int8Weight> {
    check_len(
        "quantize_int8: weight",
        checked_product("quantize_int8: weight", &[n, k])?,
        weight.len(),
    )?;
    let k8 = k.div_ceil(8) * 8;
    let block = match scales {
        Scales::PerChannel => k8.max(8),
        Scales::Block(b) if b >= 8 && b % 8 == 0 && b <= SEGMENT => b,
        Scales::Block(b) => {
            return Err(Error::InvalidArgument(format!(
                "quantize_int8: block size must be a multiple of 8 from 8 to {SEGMENT}, got {b}"
            )))
        }
    };
    if let Some(i) = weight.iter().position(|w| !w.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "quantize_int8: weight[{i}] is {}; only finite weights can be quantised",
            weight[i]
        )));
    }
    let nb = k8.div_ceil(block).max(1);
    let mut q = Vec::new();
    let mut s = Vec::new();
    let oom = |what: &str| Error::OutOfMemory(format!("quantize_int8: cannot allocate {what}"));
    q.try_reserve_exact(n * k8).map_err(|_| oom("the int8 values"))?;
    s.try_reserve_exact(n * nb).map_err(|_| oom("the scales"))?;
    q.resize(n * k8, 0i8);
    s.resize(n * nb, 0.0f32);
    for j in 0..n {
        let row = &weight[j * k..(j + 1) * k];
        let (q_row, s_row) = (&mut q[j * k8..j * k8 + k], &mut s[j * nb..(j + 1) * nb]);
        for ((w, qb), scale) in row.chunks(block).zip(q_row.chunks_mut(block)).zip(s_row) {
            let max = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            if max == 0.0 {
                continue; // scale 0, values 0
            }
            *scale = max / Q8_MAX;
            let inv = Q8_MAX / max;
            for (qv, &wv) in qb.iter_mut().zip(w) {
                *qv = (wv * inv).round_ties_even().clamp(-Q8_MAX, Q8_MAX) as i8;
            }
        }
    }
    Ok(Int8Weight { q, scales: s, n, k, block })
}

/// Activation rows quantised to int16: `q: [M, K8]` (zero-padded), `scales: [M]`.
#[derive(Clone, Debug)]
pub struct QuantRows {
    /// `[M, K8]` int16.
    pub q: Vec<i16>,
    /// `[M]`: `x̂[m, k] = scales[m] · q[m, k]`; NaN for a row with a non-finite value.
    pub scales: Vec<f32>,
    /// Rows M.
    pub m: usize,
    /// Padded row stride `K8`.
    pub k8: usize,
}

/// Quantises `inp: [M, K]` per row: `scale = max|x| / 32767`, `q = round(x / scale)`, ties to even
/// (wasm `f32.nearest`: one instruction).
/// `inp.len()` must be `M·K` (the callers check it).
pub fn quantize_rows(inp: &[f32], m: usize, k: usize) -> QuantRows {
    let k8 = k.div_ceil(8) * 8;
    let mut q = vec![0i16; m * k8];
    let mut scales = vec![0.0f32; m];
    for (i, scale) in scales.iter_mut().enumerate() {
        let row = &inp[i * k..(i + 1) * k];
        // `f32::max` ignores NaN, so NaN is looked for on its own.
        let max = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if !max.is_finite() || row.iter().any(|v| v.is_nan()) {
            *scale = f32::NAN;
            continue;
        }
        if max == 0.0 {
            continue;
        }
        *scale = max / Q16_MAX;
        let inv = Q16_MAX / max;
        for (qv, &x) in q[i * k8..i * k8 + k].iter_mut().zip(row) {
            *qv = (x * inv).round_ties_even().clamp(-Q16_MAX, Q16_MAX) as i16;
        }
    }
    QuantRows { q, scales, m, k8 }
}

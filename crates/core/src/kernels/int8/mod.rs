//! W8A16 linear layers for inference: `out = inp · weightᵀ (+ bias)` with the weight stored as
//! int8 and the activations quantised per row to int16 on the fly, multiplied with
//! `i32x4.dot_i16x8_s` (8 multiply-adds per instruction; x64 `pmaddwd`). Inference only.
//!
//! Shapes: `weight: [N, K]` float32, packed once by [`quantize_weight`] into an
//! [`Int8Weight`] (`q: [N, K8]` int8, rows zero-padded to `K8` = K rounded up to 8, and
//! `scales: [N, n_blocks]` f32); `inp: [M, K]`, `out: [M, N]`, `bias: [N]`.
//!
//! Math: `ŵ[n, k] = scales[n, k / block] · q[n, k]`, `q ∈ [−127, 127]`, the scale of a block
//! `max|w| / 127`; `x̂[m, k] = sx[m] · qx[m, k]`, `qx ∈ [−32767, 32767]`, `sx[m] = max|x[m]| /
//! 32767` (symmetric, so `i16::MIN` never occurs); `out[m, n] = bias[n] + sx[m] · Σ_b
//! scales[n, b] · Σ_{k ∈ b} qx[m, k] · q[n, k]`, the inner sums exact in i32.
//!
//! Scales ([`Scales`]): per output channel (one scale per weight row, the default) or per
//! block of `block` (a multiple of 8, ≤ [`SEGMENT`]) along K. Per-channel keeps the inner loop
//! pure integer work for up to [`SEGMENT`] values of K, and its scales are N floats; blocks of
//! 32 cost one i32→f32 conversion and one multiply-add per 32 products and 4 bytes per 32
//! weights, but follow outliers more closely and are llama.cpp's GGUF `Q8_0` layout (blocks of
//! 32 along K, an f16 scale `max|w| / 127`, values in [−127, 127]), which a GGUF loader maps
//! onto `Scales::Block(32)` without requantising (f16 → f32 is exact). Measured in
//! bench/int8.bench.mjs (docs/design/int8.md), block 32 ran at 0.4–1.0× float32 on
//! prompt shapes where per-channel ran at 0.9–1.4×, so per-channel is the default.
//!
//! Overflow: one product is at most `127 · 32767 = 4 161 409` in magnitude and
//! `i32::MAX / 4 161 409 = 516.0…`, so an i32 may sum at most 516 products. One
//! `i32x4.dot_i16x8_s` adds 2 products to each of its 4 lanes, so a lane holds `K / 4`
//! products after K values: the kernels convert their i32 lanes to f32 (and reset them) at
//! least every [`SEGMENT`] = 2048 values of K (512 products per lane, at most
//! 2 130 641 408 < 2³¹ − 1), never summing lanes in i32. The scalar lane does the same sums
//! with checked arithmetic in debug builds, so the tests would panic on an overflow.
//!
//! Non-finite activations: a row whose `max|x|` is not finite gives NaN outputs (a float32
//! product would give NaN or ±∞ there too). Non-finite weights are refused by
//! [`quantize_weight`].
//!
//! [`linear_int8_infer`] picks [`gemv::linear_int8_rows`] (few rows: the weight streamed once,
//! columns over threads) or [`matmul::linear_int8_matmul`] (many rows: 4×2 register tiles,
//! rows over threads). Both run the same [`tile`] microkernel; `mod reference` is the f64 spec.

pub mod gemv;
mod lanes;
pub mod matmul;
pub mod quantize;
pub mod reference;
mod tile;

#[cfg(test)]
mod tests;

pub use quantize::{quantize_rows, quantize_weight, Int8Weight, QuantRows, Scales};

use super::matmul::MatmulDims;
use crate::error::{check_len, checked_product, Result};

/// Values of K summed in i32 before conversion to f32 (see the module doc's bound).
pub const SEGMENT: usize = 2048;

/// Rows up to which [`linear_int8_infer`] uses the few-rows kernel.
pub const MAX_ROWS: usize = super::gemv::MAX_ROWS;

/// `out = inp · weightᵀ (+ bias)` with `weight` packed by [`quantize_weight`].
/// `out: [M, N]`, `inp: [M, K]`, `bias: [N]`; `M = inp.len() / K`.
/// Errors: [`crate::Error::Shape`] on a wrong length.
pub fn linear_int8_infer(
    out: &mut [f32],
    inp: &[f32],
    weight: &Int8Weight,
    bias: Option<&[f32]>,
    m: usize,
) -> Result<()> {
    let dims = check_dims(out, inp, weight, bias, m)?;
    let rows = quantize_rows(inp, dims.m, dims.k);
    if dims.m <= MAX_ROWS {
        gemv::linear_int8_rows(out, &rows, weight, bias);
    } else {
        matmul::linear_int8_matmul(out, &rows, weight, bias);
    }
    Ok(())
}

/// Checks `out: [M, N]`, `inp: [M, K]`, `bias: [N]` against the weight's `N, K`.
pub(crate) fn check_dims(
    out: &[f32],
    inp: &[f32],
    weight: &Int8Weight,
    bias: Option<&[f32]>,
    m: usize,
) -> Result<MatmulDims> {
    let (n, k) = (weight.n(), weight.k());
    check_len("linear_int8: inp", checked_product("linear_int8: inp", &[m, k])?, inp.len())?;
    check_len("linear_int8: out", checked_product("linear_int8: out", &[m, n])?, out.len())?;
    if let Some(bias) = bias {
        check_len("linear_int8: bias", n, bias.len())?;
    }
    Ok(MatmulDims::new(m, k, n))
}

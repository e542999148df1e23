//! Scalar math without libm calls. WebAssembly has no `exp` instruction, so `f32::exp` is a
//! software libm routine with branches for every corner case; the kernels' exponentials
//! (softmax, attention, sigmoid-based activations) use this one instead.

/// `eˣ` within about 2 ulp for `x` in `[-87, 88]` (above: about `1.6e38`):
/// `x = n·ln2 + r`, `|r| ≤ ln2/2`, Cephes' degree-6 polynomial for `eʳ`, `2ⁿ` from the
/// exponent bits. Below `-87` (where `eˣ` leaves the normal range) it returns 0, so `-inf`
/// gives 0 and an underflowed probability is exactly 0, as with libm.
#[inline]
pub fn fast_exp(x: f32) -> f32 {
    let underflow = x < -87.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + 0.5).floor();
    // r = x − n·ln2, with ln2 split in two so the product is exact.
    let r = x - n * 0.693_359_4 - n * -2.121_944_4e-4;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 5.000_000_1e-1;
    let er = p * r * r + r + 1.0;
    // n ∈ [-126, 127] after the clamp, so 2ⁿ is a normal float.
    let value = er * f32::from_bits(((n as i32 + 127) as u32) << 23);
    if underflow { 0.0 } else { value }
}

/// Logistic sigmoid `1 / (1 + e⁻ˣ)` through [`fast_exp`].
#[inline]
pub fn fast_sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + fast_exp(-x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn exp_is_within_a_few_ulp() {
        let mut worst = 0.0f64;
        let mut x = -86.99f32;
        while x < 88.0 {
            let want = f64::from(x).exp();
            let got = f64::from(fast_exp(x));
            worst = worst.max(((got - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 4e-7, "worst relative error {worst}");
        assert_eq!(fast_exp(0.0), 1.0);
        assert!(fast_exp(-1000.0) == 0.0 && fast_exp(f32::NEG_INFINITY) == 0.0 && fast_exp(1000.0) > 1e38);
    }
}

//! Scalar math without libm calls. WebAssembly has no `exp` instruction, so `f32::exp` is a
//! software libm routine with branches for every corner case; the kernels' exponentials
//! (softmax, attention, sigmoid-based activations) use this one instead, and [`fast_exp4`]
//! the same on four SIMD lanes.

use crate::simd::F32x4;

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
    p = p * r + 5e-1;
    let er = p * r * r + r + 1.0;
    // n ∈ [-126, 127] after the clamp, so 2ⁿ is a normal float.
    let value = er * f32::from_bits(((n as i32 + 127) as u32) << 23);
    if underflow {
        0.0
    } else {
        value
    }
}

/// [`fast_exp`] on four lanes, with the same operations in the same order, so every lane is
/// bit-for-bit what `fast_exp` gives (a NaN lane gives NaN).
#[inline(always)]
pub fn fast_exp4(x: F32x4) -> F32x4 {
    let xc = x.clamp(-87.0, 88.0);
    let n = (xc * F32x4::splat(std::f32::consts::LOG2_E) + F32x4::splat(0.5)).floor();
    let r = xc - n * F32x4::splat(0.693_359_4) - n * F32x4::splat(-2.121_944_4e-4);
    let mut p = F32x4::splat(1.987_569_1e-4);
    for c in [1.398_199_9e-3, 8.333_452e-3, 4.166_579_6e-2, 1.666_666_5e-1, 5e-1] {
        p = p * r + F32x4::splat(c);
    }
    let er = p * r * r + r + F32x4::splat(1.0);
    (er * n.exp2_int()).zero_where_below(x, -87.0)
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
        assert!(
            fast_exp(-1000.0) == 0.0
                && fast_exp(f32::NEG_INFINITY) == 0.0
                && fast_exp(1000.0) > 1e38
        );
    }

    #[test]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn exp4_equals_exp_in_every_lane() {
        let mut x = -90.0f32;
        while x < 90.0 {
            let lanes = [x, -x, x * 0.5, x - 0.37];
            let got = fast_exp4(F32x4::load(&lanes)).to_array();
            for (g, l) in got.iter().zip(lanes) {
                assert_eq!(g.to_bits(), fast_exp(l).to_bits(), "x = {l}");
            }
            x += 0.0913;
        }
        let special =
            fast_exp4(F32x4::load(&[f32::NEG_INFINITY, f32::INFINITY, f32::NAN, -87.5])).to_array();
        assert_eq!(special[0], 0.0);
        assert!(special[1] > 1e38 && special[2].is_nan());
        assert_eq!(special[3], 0.0);
    }
}

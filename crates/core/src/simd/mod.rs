//! A 4-lane `f32` vector, [`F32x4`], with one implementation per code path. Kernels are written
//! once against this API; the build's target features pick the implementation:
//!
//! | cfg                                 | files                       | `mul_add`              |
//! | ----------------------------------- | --------------------------- | ---------------------- |
//! | `wasm32` + `relaxed-simd`           | `wasm128.rs` + `relaxed.rs` | `f32x4_relaxed_madd`   |
//! | `wasm32` + `simd128`                | `wasm128.rs`                | `f32x4_add(f32x4_mul)` |
//! | anything else (native, plain wasm)  | `scalar.rs`                 | `[f32; 4]` lane loops  |
//!
//! The scalar path is a `[f32; 4]` newtype whose lane loops LLVM turns into SSE/NEON natively,
//! so native tests and benchmarks exercise the same blocking as the WebAssembly build.
//!
//! Every implementation offers the same API: `zero`, `splat`, `load`, `load_ptr`, `store`,
//! `store_ptr`, `mul_add`, `horizontal_sum`, `to_array`, `transpose4`, `floor`, `clamp`, `max_ignoring_nan`,
//! `exp2_int`, `zero_where_below`, and the operators `+`, `-`, `*` and `/`. `mul_add(a, b, acc)` is `acc + a * b`; whether it rounds once
//! (fused) or twice depends on the path, so kernels must not rely on either.

// wasm32: `wasm128.rs` holds the type and every method but `mul_add`, which comes from
// `relaxed.rs` (fused, `f32x4_relaxed_madd`) or `wasm128.rs` (`f32x4_add(f32x4_mul(..))`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm128;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use wasm128::F32x4;
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
mod relaxed;

/// Which implementation this build uses.
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub const PATH: &str = "relaxed-simd";
/// Which implementation this build uses.
#[cfg(all(
    target_arch = "wasm32",
    target_feature = "simd128",
    not(target_feature = "relaxed-simd")
))]
pub const PATH: &str = "simd128";
/// Which implementation this build uses.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub const PATH: &str = "scalar";

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod scalar;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub use scalar::F32x4;

/// Lanes in an [`F32x4`].
pub const LANES: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn lane_ops_match_scalar_math() {
        let a = F32x4::load(&[1.0, 2.0, 3.0, 4.0]);
        let b = F32x4::load(&[0.5, -1.0, 2.0, 0.25, 99.0]);
        let acc = F32x4::splat(10.0);
        assert_eq!(F32x4::mul_add(a, b, acc).to_array(), [10.5, 8.0, 16.0, 11.0]);
        assert_eq!((a + b).to_array(), [1.5, 1.0, 5.0, 4.25]);
        assert_eq!((a * b).to_array(), [0.5, -2.0, 6.0, 1.0]);
        assert_eq!((a - b).to_array(), [0.5, 3.0, 1.0, 3.75]);
        assert_eq!((a / b).to_array(), [2.0, -2.0, 1.5, 16.0]);
        let rows = [0.0, 4.0, 8.0, 12.0].map(|r| F32x4::load(&[r, r + 1.0, r + 2.0, r + 3.0]));
        let columns = F32x4::transpose4(rows).map(F32x4::to_array);
        assert_eq!(
            columns,
            [
                [0.0, 4.0, 8.0, 12.0],
                [1.0, 5.0, 9.0, 13.0],
                [2.0, 6.0, 10.0, 14.0],
                [3.0, 7.0, 11.0, 15.0]
            ]
        );
        let c = F32x4::load(&[-1.5, 2.5, f32::NAN, 0.0]);
        assert_eq!(c.floor().to_array()[..2], [-2.0, 2.0]);
        let clamped = c.clamp(-1.0, 2.0).to_array();
        assert_eq!((clamped[0], clamped[1], clamped[3]), (-1.0, 2.0, 0.0));
        assert!(clamped[2].is_nan());
        assert_eq!(a.max_ignoring_nan(c).to_array()[..2], [1.0, 2.5]);
        assert_eq!(a.max_ignoring_nan(c).to_array()[2..], [3.0, 4.0]);
        for n in -126..=124 {
            let lanes = [n, n + 1, n + 2, n + 3].map(|n| n as f32);
            assert_eq!(
                F32x4::load(&lanes).exp2_int().to_array(),
                lanes.map(|n| 2f32.powi(n as i32)),
                "2^{n}.."
            );
        }
        let kept = a.zero_where_below(c, 0.0).to_array();
        assert_eq!(kept, [0.0, 2.0, 3.0, 4.0]);
        assert_eq!(a.horizontal_sum(), 10.0);
        assert_eq!(F32x4::zero().to_array(), [0.0; 4]);

        let mut out = [7.0f32; 6];
        a.store(&mut out[1..]);
        assert_eq!(out, [7.0, 1.0, 2.0, 3.0, 4.0, 7.0]);
        // SAFETY: `out` has 6 elements, so 4 starting at index 2 are in bounds.
        let c = unsafe { F32x4::load_ptr(out.as_ptr().add(2)) };
        assert_eq!(c.to_array(), [2.0, 3.0, 4.0, 7.0]);
        // SAFETY: as above, indices 0..4 are in bounds and `out` is uniquely borrowed.
        unsafe { b.store_ptr(out.as_mut_ptr()) };
        assert_eq!(out[..4], [0.5, -1.0, 2.0, 0.25]);
        assert!(["scalar", "simd128", "relaxed-simd"].contains(&PATH));
    }
}

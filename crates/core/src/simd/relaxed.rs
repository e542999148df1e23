//! The relaxed-simd `mul_add` for the `simd128` [`F32x4`](super::F32x4): one
//! `f32x4.relaxed_madd`, which engines lower to a fused FMA where the CPU has one (then rounded
//! once) and to mul + add otherwise. Everything else is in `wasm128.rs`.

use core::arch::wasm32::f32x4_relaxed_madd;

use super::wasm128::F32x4;

impl F32x4 {
    /// Lane-wise `acc + a * b`, fused or not depending on the engine and CPU.
    #[inline(always)]
    pub fn mul_add(a: Self, b: Self, acc: Self) -> Self {
        Self(f32x4_relaxed_madd(a.0, b.0, acc.0))
    }
}

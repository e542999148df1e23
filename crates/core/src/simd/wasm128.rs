//! [`F32x4`] on WebAssembly `simd128` (`v128`). `mul_add` is here unless the build also has
//! `relaxed-simd`, in which case `relaxed.rs` supplies a fused one.
//!
//! The intrinsics are safe functions here because this file is only compiled when
//! `simd128` is enabled for the whole crate (see `simd/mod.rs`).

use core::ops::{Add, Div, Mul, Sub};

use core::arch::wasm32::{
    f32x4_add, f32x4_div, f32x4_extract_lane, f32x4_floor, f32x4_lt, f32x4_mul, f32x4_pmax,
    f32x4_pmin, f32x4_splat, f32x4_sub, i32x4_add, i32x4_shl, i32x4_shuffle, i32x4_splat,
    i32x4_trunc_sat_f32x4, v128, v128_andnot, v128_load, v128_store,
};

/// Four `f32` lanes in a `v128`.
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
pub struct F32x4(pub(super) v128);

impl F32x4 {
    /// All lanes `0.0`.
    #[inline(always)]
    pub fn zero() -> Self {
        Self(f32x4_splat(0.0))
    }

    /// All lanes `x`.
    #[inline(always)]
    pub fn splat(x: f32) -> Self {
        Self(f32x4_splat(x))
    }

    /// `src[0..4]`. Panics if `src` is shorter than 4.
    #[inline(always)]
    pub fn load(src: &[f32]) -> Self {
        let s = &src[..4];
        // SAFETY: `s` has exactly 4 readable f32 (16 bytes); `v128.load` allows any alignment.
        Self(unsafe { v128_load(s.as_ptr().cast::<v128>()) })
    }

    /// Four lanes from `src`, unaligned.
    ///
    /// # Safety
    /// `src..src + 4` must be valid for reads.
    #[inline(always)]
    pub unsafe fn load_ptr(src: *const f32) -> Self {
        // SAFETY: the caller guarantees 16 readable bytes at `src`; any alignment is allowed.
        Self(unsafe { v128_load(src.cast::<v128>()) })
    }

    /// Writes the lanes to `dst[0..4]`. Panics if `dst` is shorter than 4.
    #[inline(always)]
    pub fn store(self, dst: &mut [f32]) {
        let d = &mut dst[..4];
        // SAFETY: `d` is 4 writable f32 (16 bytes), uniquely borrowed; any alignment is allowed.
        unsafe { v128_store(d.as_mut_ptr().cast::<v128>(), self.0) }
    }

    /// Writes the lanes to `dst..dst + 4`, unaligned.
    ///
    /// # Safety
    /// `dst..dst + 4` must be valid for writes.
    #[inline(always)]
    pub unsafe fn store_ptr(self, dst: *mut f32) {
        // SAFETY: the caller guarantees 16 writable bytes at `dst`; any alignment is allowed.
        unsafe { v128_store(dst.cast::<v128>(), self.0) }
    }

    /// `(l0 + l2) + (l1 + l3)`, the same order as the scalar path.
    #[inline(always)]
    pub fn horizontal_sum(self) -> f32 {
        let v = self.0;
        let pairs = f32x4_add(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
        let total = f32x4_add(pairs, i32x4_shuffle::<1, 0, 3, 2>(pairs, pairs));
        f32x4_extract_lane::<0>(total)
    }

    /// The lanes as an array.
    #[inline(always)]
    pub fn to_array(self) -> [f32; 4] {
        [
            f32x4_extract_lane::<0>(self.0),
            f32x4_extract_lane::<1>(self.0),
            f32x4_extract_lane::<2>(self.0),
            f32x4_extract_lane::<3>(self.0),
        ]
    }
}

impl F32x4 {
    /// The 4 × 4 transpose of the rows `rows`: lane `j` of output `i` is lane `i` of row `j`.
    #[inline(always)]
    pub fn transpose4(rows: [Self; 4]) -> [Self; 4] {
        let [a, b, c, d] = rows.map(|r| r.0);
        let (ab_lo, ab_hi) = (i32x4_shuffle::<0, 4, 1, 5>(a, b), i32x4_shuffle::<2, 6, 3, 7>(a, b));
        let (cd_lo, cd_hi) = (i32x4_shuffle::<0, 4, 1, 5>(c, d), i32x4_shuffle::<2, 6, 3, 7>(c, d));
        [
            Self(i32x4_shuffle::<0, 1, 4, 5>(ab_lo, cd_lo)),
            Self(i32x4_shuffle::<2, 3, 6, 7>(ab_lo, cd_lo)),
            Self(i32x4_shuffle::<0, 1, 4, 5>(ab_hi, cd_hi)),
            Self(i32x4_shuffle::<2, 3, 6, 7>(ab_hi, cd_hi)),
        ]
    }

    /// Lane-wise `⌊self⌋`.
    #[inline(always)]
    pub fn floor(self) -> Self {
        Self(f32x4_floor(self.0))
    }

    /// Lane-wise `self` raised to at least `lo` and lowered to at most `hi` (`lo <= hi`); a NaN
    /// lane stays NaN. One compare-select per bound (`f32x4.pmax` / `pmin`).
    #[inline(always)]
    pub fn clamp(self, lo: f32, hi: f32) -> Self {
        Self(f32x4_pmin(f32x4_pmax(self.0, f32x4_splat(lo)), f32x4_splat(hi)))
    }

    /// Lane-wise `max(self, other)` where a NaN in `other` is ignored (`f32x4.pmax`:
    /// `self < other ? other : self`).
    #[inline(always)]
    pub fn max_ignoring_nan(self, other: Self) -> Self {
        Self(f32x4_pmax(self.0, other.0))
    }

    /// Lane-wise `2ⁿ` for integral lanes `n ∈ [-126, 127]`, built from the exponent bits.
    #[inline(always)]
    pub fn exp2_int(self) -> Self {
        let n = i32x4_trunc_sat_f32x4(self.0);
        Self(i32x4_shl(i32x4_add(n, i32x4_splat(127)), 23))
    }

    /// Lane-wise `0` where `x < limit`, else `self` (a NaN `x` keeps `self`).
    #[inline(always)]
    pub fn zero_where_below(self, x: Self, limit: f32) -> Self {
        Self(v128_andnot(self.0, f32x4_lt(x.0, f32x4_splat(limit))))
    }
}

impl Sub for F32x4 {
    type Output = Self;

    /// Lane-wise `self - other`.
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        Self(f32x4_sub(self.0, other.0))
    }
}

impl Div for F32x4 {
    type Output = Self;

    /// Lane-wise `self / other`.
    #[inline(always)]
    fn div(self, other: Self) -> Self {
        Self(f32x4_div(self.0, other.0))
    }
}

impl Add for F32x4 {
    type Output = Self;

    /// Lane-wise `self + other`.
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        Self(f32x4_add(self.0, other.0))
    }
}

impl Mul for F32x4 {
    type Output = Self;

    /// Lane-wise `self * other`.
    #[inline(always)]
    fn mul(self, other: Self) -> Self {
        Self(f32x4_mul(self.0, other.0))
    }
}

#[cfg(not(target_feature = "relaxed-simd"))]
impl F32x4 {
    /// Lane-wise `acc + a * b`, rounded twice (simd128 has no fused multiply-add).
    #[inline(always)]
    pub fn mul_add(a: Self, b: Self, acc: Self) -> Self {
        Self(f32x4_add(acc.0, f32x4_mul(a.0, b.0)))
    }
}

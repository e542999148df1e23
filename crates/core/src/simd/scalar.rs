//! [`F32x4`] as a plain `[f32; 4]`: the native and no-simd128 path. The lane loops are written
//! out so LLVM's SLP vectoriser emits one SSE/NEON instruction per operation.

use core::ops::{Add, Div, Mul, Sub};

/// Four `f32` lanes.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, align(16))]
pub struct F32x4([f32; 4]);

impl F32x4 {
    /// All lanes `0.0`.
    #[inline(always)]
    pub fn zero() -> Self {
        Self([0.0; 4])
    }

    /// All lanes `x`.
    #[inline(always)]
    pub fn splat(x: f32) -> Self {
        Self([x; 4])
    }

    /// `src[0..4]`. Panics if `src` is shorter than 4.
    #[inline(always)]
    pub fn load(src: &[f32]) -> Self {
        let s = &src[..4];
        Self([s[0], s[1], s[2], s[3]])
    }

    /// Four lanes from `src`, unaligned.
    ///
    /// # Safety
    /// `src..src + 4` must be valid for reads.
    #[inline(always)]
    pub unsafe fn load_ptr(src: *const f32) -> Self {
        // SAFETY: the caller guarantees 4 readable f32 at `src`; `read_unaligned` needs no
        // alignment beyond that.
        Self(unsafe { src.cast::<[f32; 4]>().read_unaligned() })
    }

    /// Writes the lanes to `dst[0..4]`. Panics if `dst` is shorter than 4.
    #[inline(always)]
    pub fn store(self, dst: &mut [f32]) {
        dst[..4].copy_from_slice(&self.0);
    }

    /// Writes the lanes to `dst..dst + 4`, unaligned.
    ///
    /// # Safety
    /// `dst..dst + 4` must be valid for writes.
    #[inline(always)]
    pub unsafe fn store_ptr(self, dst: *mut f32) {
        // SAFETY: the caller guarantees 4 writable f32 at `dst`; unaligned write.
        unsafe { dst.cast::<[f32; 4]>().write_unaligned(self.0) }
    }

    /// Lane-wise `acc + a * b` (two roundings, like the simd128 path).
    #[inline(always)]
    pub fn mul_add(a: Self, b: Self, acc: Self) -> Self {
        acc + a * b
    }

    /// `lane0 + lane1 + lane2 + lane3`, summed as `(l0 + l2) + (l1 + l3)` like the SIMD paths.
    #[inline(always)]
    pub fn horizontal_sum(self) -> f32 {
        let a = self.0;
        (a[0] + a[2]) + (a[1] + a[3])
    }

    /// The lanes as an array.
    #[inline(always)]
    pub fn to_array(self) -> [f32; 4] {
        self.0
    }
}

impl F32x4 {
    /// The 4 × 4 transpose of the rows `rows`: lane `j` of output `i` is lane `i` of row `j`.
    #[inline(always)]
    pub fn transpose4(rows: [Self; 4]) -> [Self; 4] {
        [0, 1, 2, 3].map(|i| Self(rows.map(|r| r.0[i])))
    }

    /// Lane-wise `⌊self⌋`.
    #[inline(always)]
    pub fn floor(self) -> Self {
        Self(self.0.map(f32::floor))
    }

    /// Lane-wise `self` raised to at least `lo` and lowered to at most `hi` (`lo <= hi`); a NaN
    /// lane stays NaN (as `f32x4.pmax` / `pmin`).
    #[inline(always)]
    pub fn clamp(self, lo: f32, hi: f32) -> Self {
        Self(self.0.map(|x| {
            let x = if x < lo { lo } else { x };
            if hi < x {
                hi
            } else {
                x
            }
        }))
    }

    /// Lane-wise `self < other ? other : self` (a NaN in `other` is ignored).
    #[inline(always)]
    pub fn max_ignoring_nan(self, other: Self) -> Self {
        let (a, b) = (self.0, other.0);
        Self([0, 1, 2, 3].map(|i| if a[i] < b[i] { b[i] } else { a[i] }))
    }

    /// Lane-wise `2ⁿ` for integral lanes `n ∈ [-126, 127]`, built from the exponent bits.
    #[inline(always)]
    pub fn exp2_int(self) -> Self {
        Self(self.0.map(|n| f32::from_bits(((n as i32 + 127) as u32) << 23)))
    }

    /// Lane-wise `0` where `x < limit`, else `self` (a NaN `x` keeps `self`).
    #[inline(always)]
    pub fn zero_where_below(self, x: Self, limit: f32) -> Self {
        let (a, x) = (self.0, x.0);
        Self([0, 1, 2, 3].map(|i| if x[i] < limit { 0.0 } else { a[i] }))
    }
}

impl Sub for F32x4 {
    type Output = Self;

    /// Lane-wise `self - other`.
    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        let (a, b) = (self.0, other.0);
        Self([a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]])
    }
}

impl Div for F32x4 {
    type Output = Self;

    /// Lane-wise `self / other`.
    #[inline(always)]
    fn div(self, other: Self) -> Self {
        let (a, b) = (self.0, other.0);
        Self([a[0] / b[0], a[1] / b[1], a[2] / b[2], a[3] / b[3]])
    }
}

impl Add for F32x4 {
    type Output = Self;

    /// Lane-wise `self + other`.
    #[inline(always)]
    fn add(self, other: Self) -> Self {
        let (a, b) = (self.0, other.0);
        Self([a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]])
    }
}

impl Mul for F32x4 {
    type Output = Self;

    /// Lane-wise `self * other`.
    #[inline(always)]
    fn mul(self, other: Self) -> Self {
        let (a, b) = (self.0, other.0);
        Self([a[0] * b[0], a[1] * b[1], a[2] * b[2], a[3] * b[3]])
    }
}

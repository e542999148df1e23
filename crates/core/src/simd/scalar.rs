//! [`F32x4`] as a plain `[f32; 4]`: the native and no-simd128 path. The lane loops are written
//! out so LLVM's SLP vectoriser emits one SSE/NEON instruction per operation.

use core::ops::{Add, Mul};

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

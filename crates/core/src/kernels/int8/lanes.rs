//! The integer lanes of the W8A16 kernels: [`I16x8`] (8 int16, loaded as is or widened from
//! int8) and [`I32x4`] with `dot_add` = `i32x4.dot_i16x8_s` + `i32x4.add`. One implementation
//! on wasm32 `simd128`, a scalar one elsewhere (as `crate::simd` does for f32); the scalar
//! lane adds with `+`, which panics on overflow in debug builds, so native tests check the
//! overflow bound.

use crate::simd::F32x4;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use super::F32x4;
    use core::arch::wasm32::{
        f32x4_convert_i32x4, i16x8_load_extend_i8x8, i32x4_add, i32x4_dot_i16x8, i32x4_splat, v128,
        v128_load,
    };

    /// 8 int16 lanes.
    #[derive(Clone, Copy)]
    pub struct I16x8(v128);

    /// 4 int32 lanes.
    #[derive(Clone, Copy)]
    pub struct I32x4(v128);

    impl I16x8 {
        /// `src[0..8]`.
        ///
        /// # Safety
        /// `src..src + 8` must be valid for reads.
        #[inline(always)]
        pub unsafe fn load(src: *const i16) -> Self {
            // SAFETY: the caller guarantees 16 readable bytes; v128.load allows any alignment.
            Self(unsafe { v128_load(src.cast::<v128>()) })
        }

        /// `src[0..8]` sign-extended to int16.
        ///
        /// # Safety
        /// `src..src + 8` must be valid for reads.
        #[inline(always)]
        pub unsafe fn load_widen(src: *const i8) -> Self {
            // SAFETY: the caller guarantees 8 readable bytes; the load allows any alignment.
            Self(unsafe { i16x8_load_extend_i8x8(src) })
        }
    }

    impl I32x4 {
        /// All lanes 0.
        #[inline(always)]
        pub fn zero() -> Self {
            Self(i32x4_splat(0))
        }

        /// `self + dot(a, b)`: lane `l` gains `a[2l]·b[2l] + a[2l+1]·b[2l+1]`.
        #[inline(always)]
        pub fn dot_add(self, a: I16x8, b: I16x8) -> Self {
            Self(i32x4_add(self.0, i32x4_dot_i16x8(a.0, b.0)))
        }

        /// `acc + f32(self) · scale`.
        #[inline(always)]
        pub fn scale_add(self, scale: f32, acc: F32x4) -> F32x4 {
            // SAFETY: `F32x4` is `#[repr(transparent)]` over `v128` (simd/wasm128.rs), so a
            // `v128` of four f32 lanes is a valid `F32x4`.
            let lanes: F32x4 = unsafe { core::mem::transmute(f32x4_convert_i32x4(self.0)) };
            F32x4::mul_add(lanes, F32x4::splat(scale), acc)
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    use super::F32x4;

    /// 8 int16 lanes.
    #[derive(Clone, Copy)]
    pub struct I16x8([i16; 8]);

    /// 4 int32 lanes.
    #[derive(Clone, Copy)]
    pub struct I32x4([i32; 4]);

    impl I16x8 {
        /// `src[0..8]`.
        ///
        /// # Safety
        /// `src..src + 8` must be valid for reads.
        #[inline(always)]
        pub unsafe fn load(src: *const i16) -> Self {
            // SAFETY: the caller guarantees 8 readable i16; read_unaligned allows any alignment.
            Self(unsafe { src.cast::<[i16; 8]>().read_unaligned() })
        }

        /// `src[0..8]` sign-extended to int16.
        ///
        /// # Safety
        /// `src..src + 8` must be valid for reads.
        #[inline(always)]
        pub unsafe fn load_widen(src: *const i8) -> Self {
            // SAFETY: the caller guarantees 8 readable bytes; read_unaligned allows any alignment.
            let bytes = unsafe { src.cast::<[i8; 8]>().read_unaligned() };
            Self(bytes.map(i16::from))
        }
    }

    impl I32x4 {
        /// All lanes 0.
        #[inline(always)]
        pub fn zero() -> Self {
            Self([0; 4])
        }

        /// `self + dot(a, b)`: lane `l` gains `a[2l]·b[2l] + a[2l+1]·b[2l+1]`.
        #[inline(always)]
        pub fn dot_add(self, a: I16x8, b: I16x8) -> Self {
            let mut out = self.0;
            for (l, lane) in out.iter_mut().enumerate() {
                let pair = i32::from(a.0[2 * l]) * i32::from(b.0[2 * l])
                    + i32::from(a.0[2 * l + 1]) * i32::from(b.0[2 * l + 1]);
                *lane += pair;
            }
            Self(out)
        }

        /// `acc + f32(self) · scale`.
        #[inline(always)]
        pub fn scale_add(self, scale: f32, acc: F32x4) -> F32x4 {
            F32x4::mul_add(F32x4::load(&self.0.map(|v| v as f32)), F32x4::splat(scale), acc)
        }
    }
}

pub(super) use imp::{I16x8, I32x4};

//! The residual add of a transformer block: `out = inp1 + inp2`.
//!
//! Shapes: `out`, `inp1`, `inp2`, `dout`, `dinp1`, `dinp2`: all the same length (usually
//! `[B, T, C]`).
//!
//! Accumulation: `residual_backward` ADDS into both `dinp1` and `dinp2`: the residual stream's
//! gradient is shared by the block input and the skip path, so each contribution sums into it.
//! Long buffers are split over [`crate::par`] threads.

use crate::error::{check_len, Result};
use crate::par::for_each_row_block;
use crate::simd::{F32x4, LANES};

/// Elements below which the add runs on the calling thread only.
const PAR_MIN_ELEMS: usize = 1 << 14;

/// `dst = a + b`, or `dst += b` when `a` is `None`; split over threads.
fn add(dst: &mut [f32], a: Option<&[f32]>, b: &[f32]) {
    for_each_row_block(dst, 1, PAR_MIN_ELEMS, |range, block| {
        let (a, b) = (a.map(|a| &a[range.clone()]), &b[range]);
        let mut i = 0;
        while i + LANES <= block.len() {
            let lhs = F32x4::load(a.map_or(&block[i..], |a| &a[i..]));
            (lhs + F32x4::load(&b[i..])).store(&mut block[i..]);
            i += LANES;
        }
        for j in i..block.len() {
            block[j] = a.map_or(block[j], |a| a[j]) + b[j];
        }
    });
}

/// `out = inp1 + inp2`. `out`, `inp1`, `inp2`: the same length (e.g. `[B, T, C]`).
pub fn residual_forward(out: &mut [f32], inp1: &[f32], inp2: &[f32]) -> Result<()> {
    check_len("residual: inp1", out.len(), inp1.len())?;
    check_len("residual: inp2", out.len(), inp2.len())?;
    add(out, Some(inp1), inp2);
    Ok(())
}

/// Gradients of [`residual_forward`], ADDED into both `dinp1` and `dinp2` (the residual
/// stream's gradient is shared, so contributions sum). All three buffers: the same length.
pub fn residual_backward(dinp1: &mut [f32], dinp2: &mut [f32], dout: &[f32]) -> Result<()> {
    check_len("residual: dinp1", dout.len(), dinp1.len())?;
    check_len("residual: dinp2", dout.len(), dinp2.len())?;
    // out = inp1 + inp2  →  dinp1 += dout, dinp2 += dout
    add(dinp1, None, dout);
    add(dinp2, None, dout);
    Ok(())
}

/// The f64 spec of the residual add.
pub mod reference {
    use crate::error::{check_len, Result};

    /// Reference for [`super::residual_forward`].
    pub fn residual_forward_ref(out: &mut [f32], inp1: &[f32], inp2: &[f32]) -> Result<()> {
        check_len("residual: inp1", out.len(), inp1.len())?;
        check_len("residual: inp2", out.len(), inp2.len())?;
        for ((o, &a), &b) in out.iter_mut().zip(inp1).zip(inp2) {
            *o = (f64::from(a) + f64::from(b)) as f32;
        }
        Ok(())
    }

    /// Reference for [`super::residual_backward`]: adds `dout` into `dinp1` and `dinp2`.
    pub fn residual_backward_ref(dinp1: &mut [f32], dinp2: &mut [f32], dout: &[f32]) -> Result<()> {
        check_len("residual: dinp1", dout.len(), dinp1.len())?;
        check_len("residual: dinp2", dout.len(), dinp2.len())?;
        for ((a, b), &g) in dinp1.iter_mut().zip(dinp2.iter_mut()).zip(dout) {
            *a = (f64::from(*a) + f64::from(g)) as f32;
            *b = (f64::from(*b) + f64::from(g)) as f32;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::reference::*;
    use super::*;
    use crate::testing::{dot_loss, gradcheck, random_vec};
    use crate::Error;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn residual_matches_reference_and_accumulates() {
        for len in [1usize, 3, 17, 63, 65, 40_000] {
            let (a, b, dout) = (random_vec(len, 31), random_vec(len, 32), random_vec(len, 33));
            let mut want = vec![0.0; len];
            residual_forward_ref(&mut want, &a, &b).unwrap();
            let mut got = vec![f32::NAN; len];
            residual_forward(&mut got, &a, &b).unwrap();
            assert_eq!(got, want, "len {len} out");
            let (mut d1_want, mut d2_want) = (a.clone(), b.clone());
            residual_backward_ref(&mut d1_want, &mut d2_want, &dout).unwrap();
            let (mut d1, mut d2) = (a.clone(), b.clone());
            residual_backward(&mut d1, &mut d2, &dout).unwrap();
            assert_eq!((d1, d2), (d1_want, d2_want), "len {len} grads");
        }
        // The accumulation rule against finite differences: L = Σ (inp1 + inp2) · probe.
        let (a, b, probe) = (random_vec(7, 34), random_vec(7, 35), random_vec(7, 36));
        let loss = |a: &[f32], b: &[f32]| {
            let mut out = vec![0.0; 7];
            residual_forward_ref(&mut out, a, b).unwrap();
            dot_loss(&out, &probe)
        };
        let (mut d1, mut d2) = (vec![0.0; 7], vec![0.0; 7]);
        residual_backward_ref(&mut d1, &mut d2, &probe).unwrap();
        gradcheck("residual dinp1", &a, &d1, 1e-2, 1e-5, 1e-4, |a| loss(a, &b));
        gradcheck("residual dinp2", &b, &d2, 1e-2, 1e-5, 1e-4, |b| loss(&a, b));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn wrong_lengths_are_shape_errors() {
        let (x, mut out, mut dx, mut dw) = (vec![0.0; 6], vec![0.0; 6], vec![0.0; 6], vec![0.0; 3]);
        let shape = |what: &str, expected, got| Err(Error::shape(what, expected, got));
        assert_eq!(residual_forward(&mut out, &x, &x[..2]), shape("residual: inp2", 6, 2));
        assert_eq!(residual_backward(&mut dx[..1], &mut dw, &x), shape("residual: dinp1", 6, 1));
    }
}

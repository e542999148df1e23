//! Global-norm gradient clipping, as PyTorch's `torch.nn.utils.clip_grad_norm_` (L2 norm,
//! `error_if_nonfinite = False` except as noted).
//!
//! Math: `norm = √(Σ_buffers Σ_i g_i²)` (squares summed in f64), then
//! `coef = max_norm / (norm + 1e-6)`, and every gradient is scaled `g ← g · coef` when
//! `coef < 1` (PyTorch clamps `coef` to at most 1 and multiplies; skipping the multiply by 1
//! leaves the same values). So clipping happens when `norm > max_norm − 1e-6` up to rounding,
//! i.e. when `norm > max_norm` in practice.
//!
//! Non-finite norm (an `inf` or `NaN` gradient): the norm is returned and nothing is scaled.
//! PyTorch would multiply by `coef = 0` or `NaN` and wipe the gradients; here the caller sees
//! the non-finite norm and decides (typically: skip the step).
//!
//! Shapes: any number of flat gradient buffers of any lengths (`[N_k]`).

use std::sync::{Mutex, PoisonError};

use crate::error::{Error, Result};
use crate::par::{for_each_range, for_each_row_block};

/// Below about this many elements a task is not worth a thread.
const MIN_ELEMS_PER_TASK: usize = 64 * 1024;

/// The added term of PyTorch's `max_norm / (total_norm + 1e-6)`.
const NORM_EPS: f64 = 1e-6;

/// The L2 norm of all the buffers together, `√(Σ g²)`, accumulated in f64.
///
/// `grads`: any number of buffers `[N_k]`. Returns `inf`/`NaN` if a value is, `0` for none.
pub fn global_grad_norm(grads: &[&[f32]]) -> f32 {
    sum_of_squares(grads).sqrt() as f32
}

fn sum_of_squares(grads: &[&[f32]]) -> f64 {
    let square_sum = |g: &[f32]| g.iter().map(|&x| f64::from(x) * f64::from(x)).sum::<f64>();
    let mut total = 0.0f64;
    for &g in grads {
        if g.len() < 2 * MIN_ELEMS_PER_TASK {
            total += square_sum(g);
            continue;
        }
        // Partial sums keyed by their range start, summed in order afterwards.
        let partials = Mutex::new(Vec::new());
        for_each_range(g.len(), MIN_ELEMS_PER_TASK, |range| {
            let s = square_sum(&g[range.clone()]);
            partials.lock().unwrap_or_else(PoisonError::into_inner).push((range.start, s));
        });
        let mut partials = partials.into_inner().unwrap_or_else(PoisonError::into_inner);
        partials.sort_by_key(|&(start, _)| start);
        total += partials.iter().map(|&(_, s)| s).sum::<f64>();
    }
    total
}

/// Scales all `grads` in place so their global L2 norm is at most `max_norm` (PyTorch
/// `clip_grad_norm_`) and returns the norm BEFORE clipping.
///
/// `grads`: any number of buffers `[N_k]`; `max_norm > 0` (may be `inf`: never clip). Errors:
/// [`Error::InvalidArgument`] if `max_norm ≤ 0` or `NaN` (nothing written). A non-finite norm
/// is returned without scaling anything (see the module doc).
pub fn clip_grad_norm(grads: &mut [&mut [f32]], max_norm: f32) -> Result<f32> {
    check_max_norm(max_norm)?;
    let views: Vec<&[f32]> = grads.iter().map(|g| &**g).collect();
    let norm = sum_of_squares(&views).sqrt();
    if let Some(coef) = clip_coef(norm, max_norm) {
        let coef = coef as f32;
        for g in grads.iter_mut() {
            for_each_row_block(g, 1, MIN_ELEMS_PER_TASK, |_, block| {
                for x in block {
                    *x *= coef;
                }
            });
        }
    }
    Ok(norm as f32)
}

fn check_max_norm(max_norm: f32) -> Result<()> {
    if max_norm.is_nan() || max_norm <= 0.0 {
        return Err(Error::InvalidArgument(format!(
            "clip_grad_norm: max_norm = {max_norm} must be > 0"
        )));
    }
    Ok(())
}

/// `Some(max_norm / (norm + 1e-6))` when that is `< 1` and the norm finite, else `None`.
fn clip_coef(norm: f64, max_norm: f32) -> Option<f64> {
    let coef = f64::from(max_norm) / (norm + NORM_EPS);
    (norm.is_finite() && coef < 1.0).then_some(coef)
}

pub mod reference {
    //! The spec: one f64 loop over every value.

    use super::{check_max_norm, clip_coef};
    use crate::error::Result;

    /// Reference for [`super::global_grad_norm`], returned in f64.
    pub fn global_grad_norm_ref(grads: &[&[f32]]) -> f64 {
        let mut sum = 0.0f64;
        for g in grads {
            for &x in g.iter() {
                sum += f64::from(x) * f64::from(x);
            }
        }
        sum.sqrt()
    }

    /// Reference for [`super::clip_grad_norm`] (same buffers, result and errors).
    pub fn clip_grad_norm_ref(grads: &mut [&mut [f32]], max_norm: f32) -> Result<f32> {
        check_max_norm(max_norm)?;
        let views: Vec<&[f32]> = grads.iter().map(|g| &**g).collect();
        let norm = global_grad_norm_ref(&views);
        if let Some(coef) = clip_coef(norm, max_norm) {
            for g in grads.iter_mut() {
                for x in g.iter_mut() {
                    *x = (f64::from(*x) * coef) as f32;
                }
            }
        }
        Ok(norm as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::reference::{clip_grad_norm_ref, global_grad_norm_ref};
    use super::*;
    use crate::testing::{assert_close, random_vec};

    /// Ragged buffers, one large enough to take the threaded path.
    fn buffers() -> Vec<Vec<f32>> {
        [1usize, 3, 17, 63, 0, 2 * MIN_ELEMS_PER_TASK + 5]
            .iter()
            .enumerate()
            .map(|(i, &n)| random_vec(n, 40 + i as u64))
            .collect()
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn norm_matches_reference() {
        let bufs = buffers();
        let views: Vec<&[f32]> = bufs.iter().map(Vec::as_slice).collect();
        let want = global_grad_norm_ref(&views);
        let got = global_grad_norm(&views);
        assert!((f64::from(got) - want).abs() <= 1e-6 * want, "{got} vs {want}");
        assert_eq!(global_grad_norm(&[&[3.0, 4.0], &[12.0]]), 13.0);
        assert_eq!(global_grad_norm(&[]), 0.0);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn clipping_matches_reference() {
        let original = buffers();
        let views: Vec<&[f32]> = original.iter().map(Vec::as_slice).collect();
        let norm = global_grad_norm_ref(&views);
        for max_norm in [norm as f32 * 0.5, 1.0, 0.01] {
            let (mut got, mut want) = (original.clone(), original.clone());
            let mut got_views: Vec<&mut [f32]> = got.iter_mut().map(Vec::as_mut_slice).collect();
            let mut want_views: Vec<&mut [f32]> = want.iter_mut().map(Vec::as_mut_slice).collect();
            let got_norm = clip_grad_norm(&mut got_views, max_norm).unwrap();
            let want_norm = clip_grad_norm_ref(&mut want_views, max_norm).unwrap();
            assert!((got_norm - want_norm).abs() <= 1e-6 * want_norm, "{got_norm} vs {want_norm}");
            for (k, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_close(g, w, 1e-7, 1e-6, &format!("max_norm {max_norm} buffer {k}"));
            }
            let views: Vec<&[f32]> = got.iter().map(Vec::as_slice).collect();
            let after = global_grad_norm_ref(&views);
            assert!((after - f64::from(max_norm)).abs() <= 1e-5 * f64::from(max_norm), "{after}");
        }
        // Hand-computed: norm 13, max_norm 6.5 → every value halved (up to the 1e-6 term).
        let (mut a, mut b) = ([3.0f32, 4.0], [12.0f32]);
        let norm = clip_grad_norm(&mut [&mut a, &mut b], 6.5).unwrap();
        assert_eq!(norm, 13.0);
        assert_close(&[a[0], a[1], b[0]], &[1.5, 2.0, 6.0], 0.0, 1e-6, "halved");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn under_the_threshold_is_a_no_op() {
        let original = buffers();
        let views: Vec<&[f32]> = original.iter().map(Vec::as_slice).collect();
        let norm = global_grad_norm_ref(&views) as f32;
        for max_norm in [norm * 1.01, norm * 100.0, f32::INFINITY] {
            let mut got = original.clone();
            let mut got_views: Vec<&mut [f32]> = got.iter_mut().map(Vec::as_mut_slice).collect();
            let returned = clip_grad_norm(&mut got_views, max_norm).unwrap();
            assert!((returned - norm).abs() <= 1e-6 * norm);
            assert_eq!(got, original, "max_norm {max_norm}");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn non_finite_norm_and_bad_max_norm() {
        let (mut a, mut b) = ([1.0f32, f32::INFINITY], [2.0f32]);
        let norm = clip_grad_norm(&mut [&mut a, &mut b], 1.0).unwrap();
        assert_eq!(norm, f32::INFINITY);
        assert_eq!((a, b), ([1.0, f32::INFINITY], [2.0]), "scaled despite an inf norm");
        let mut c = [f32::NAN, 5.0];
        assert!(clip_grad_norm(&mut [&mut c], 1.0).unwrap().is_nan());
        assert_eq!(c[1], 5.0);

        let mut d = [3.0f32, 4.0];
        for max_norm in [0.0, -1.0, f32::NAN] {
            let err = clip_grad_norm(&mut [&mut d], max_norm);
            assert!(matches!(err, Err(Error::InvalidArgument(_))), "max_norm {max_norm}");
            let err = clip_grad_norm_ref(&mut [&mut d], max_norm);
            assert!(matches!(err, Err(Error::InvalidArgument(_))), "ref, max_norm {max_norm}");
        }
        assert_eq!(d, [3.0, 4.0]);
    }
}

//! AdamW (Loshchilov & Hutter, decoupled weight decay), step for step as PyTorch's
//! `torch.optim.AdamW` (single-tensor path, `amsgrad = False`, `maximize = False`).
//!
//! Math, per element, at 1-based step `s` with learning rate `lr` and decay `wd`:
//! ```text
//! p ← p · (1 − lr · wd)                                  decoupled decay, applied FIRST
//! m ← m + (1 − β1) · (g − m)                             = β1·m + (1 − β1)·g (torch lerp)
//! v ← β2 · v + (1 − β2) · g²
//! p ← p − (lr / (1 − β1^s)) · m / (√v / √(1 − β2^s) + ε)
//! ```
//! i.e. `p ← p − lr · (m̂ / (√v̂ + ε) + wd · p_old)` with `m̂ = m / (1 − β1^s)`,
//! `v̂ = v / (1 − β2^s)`, evaluated in PyTorch's order: the decay multiplies `p` before the Adam
//! step is subtracted, and ε is added to `√v̂`. The bias corrections and the step size are
//! computed in f64 (PyTorch computes them as Python floats) and rounded to f32 once.
//!
//! Shapes: `params`, `m`, `v`, `grads` are one flat buffer of `N` elements each (a parameter
//! group or a slice of one). Callers apply parameter groups by calling [`adamw_update`] once per
//! group with that group's `weight_decay` (GPT-2 style: decay the 2-D weights, not biases or
//! norm gains; the model decides), and a per-call `lr` for schedules.
//!
//! Accumulation: `params`, `m`, `v` are updated in place; `grads` is read only.

use std::sync::{Mutex, PoisonError};

use crate::error::{check_len, Error, Result};
use crate::par::{for_each_range, num_threads};

/// Below about this many elements a task is not worth a thread.
const MIN_ELEMS_PER_TASK: usize = 32 * 1024;

/// AdamW hyperparameters. `lr` and `weight_decay` here are defaults for callers; the update
/// itself takes them per call (schedules, parameter groups).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate (`≥ 0`).
    pub lr: f32,
    /// First-moment decay `β1` in `[0, 1)`.
    pub beta1: f32,
    /// Second-moment decay `β2` in `[0, 1)`.
    pub beta2: f32,
    /// Denominator term `ε > 0`, added to `√v̂`.
    pub eps: f32,
    /// Decoupled weight decay (`≥ 0`).
    pub weight_decay: f32,
}

impl Default for AdamWConfig {
    /// PyTorch's defaults except `lr`: `lr 1e-3, β1 0.9, β2 0.999, ε 1e-8, weight_decay 0.01`.
    fn default() -> Self {
        Self { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01 }
    }
}

impl AdamWConfig {
    /// Checks every field's range (`β1`, `β2` in `[0, 1)`, `ε > 0`, `lr ≥ 0`,
    /// `weight_decay ≥ 0`, all finite), returning [`Error::InvalidArgument`] naming the field.
    pub fn validate(&self) -> Result<()> {
        check_lr_wd(self.lr, self.weight_decay)?;
        for (name, beta) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(Error::InvalidArgument(format!(
                    "adamw: {name} = {beta} not in [0, 1)"
                )));
            }
        }
        if !(self.eps > 0.0 && self.eps.is_finite()) {
            return Err(Error::InvalidArgument(format!("adamw: eps = {} must be > 0", self.eps)));
        }
        Ok(())
    }
}

/// One update's own hyperparameters (the rest are in [`AdamWConfig`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWStep {
    /// This update's learning rate (`≥ 0`; schedules change it per step).
    pub lr: f32,
    /// This update's decoupled weight decay (`≥ 0`; parameter groups differ).
    pub weight_decay: f32,
    /// The 1-based count of updates, including this one.
    pub step: u64,
}

fn check_lr_wd(lr: f32, weight_decay: f32) -> Result<()> {
    for (name, x) in [("lr", lr), ("weight_decay", weight_decay)] {
        if !(x >= 0.0 && x.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "adamw: {name} = {x} must be finite and >= 0"
            )));
        }
    }
    Ok(())
}

/// Checks lengths (`m`, `v`, `grads` as long as `params`), the config, `lr`, `weight_decay` and
/// `step ≥ 1`.
fn check_call(n: usize, lens: [usize; 3], call: AdamWStep, config: &AdamWConfig) -> Result<()> {
    let AdamWStep { lr, weight_decay, step } = call;
    check_len("adamw: m", n, lens[0])?;
    check_len("adamw: v", n, lens[1])?;
    check_len("adamw: grads", n, lens[2])?;
    config.validate()?;
    check_lr_wd(lr, weight_decay)?;
    if step == 0 {
        return Err(Error::InvalidArgument("adamw: step is 1-based; got 0".into()));
    }
    Ok(())
}

/// The per-step scalars, in f64 as PyTorch computes them, rounded to f32 once.
#[derive(Clone, Copy)]
struct StepScalars {
    /// `1 − lr · wd`
    decay: f32,
    /// `lr / (1 − β1^s)`
    step_size: f32,
    /// `√(1 − β2^s)`
    bc2_sqrt: f32,
}

fn step_scalars(call: AdamWStep, config: &AdamWConfig) -> StepScalars {
    let AdamWStep { lr, weight_decay, step } = call;
    let s = step as f64;
    let bc1 = 1.0 - f64::from(config.beta1).powf(s);
    let bc2 = 1.0 - f64::from(config.beta2).powf(s);
    StepScalars {
        decay: (1.0 - f64::from(lr) * f64::from(weight_decay)) as f32,
        step_size: (f64::from(lr) / bc1) as f32,
        bc2_sqrt: bc2.sqrt() as f32,
    }
}

/// One AdamW step over a flat buffer, in place.
///
/// `params: [N]` (updated), `m: [N]`, `v: [N]` (first and second moments, updated; zeros before
/// step 1), `grads: [N]`; `call` gives this update's `lr`, `weight_decay` and 1-based `step`;
/// `config` supplies `β1`, `β2`, `ε` (its own `lr`, `weight_decay` are not used here, but are
/// validated). Errors: [`Error::Shape`] on a length mismatch,
/// [`Error::InvalidArgument`] on `step = 0` or an out-of-range hyperparameter; nothing is
/// written then. Large buffers are split over [`crate::par`] threads.
pub fn adamw_update(
    params: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    grads: &[f32],
    call: AdamWStep,
    config: &AdamWConfig,
) -> Result<()> {
    let n = params.len();
    check_call(n, [m.len(), v.len(), grads.len()], call, config)?;
    let k = step_scalars(call, config);
    let n_tasks = num_threads().min(n / MIN_ELEMS_PER_TASK).max(1);
    if n_tasks <= 1 {
        update_chunk(params, m, v, grads, k, config);
        return Ok(());
    }
    // Disjoint chunks of all four buffers; each mutex is locked by exactly one task and only
    // hands the `&mut` slices over.
    let chunk = n.div_ceil(n_tasks);
    let jobs: Vec<_> = params
        .chunks_mut(chunk)
        .zip(m.chunks_mut(chunk))
        .zip(v.chunks_mut(chunk))
        .zip(grads.chunks(chunk))
        .map(|(((p, m), v), g)| Mutex::new((p, m, v, g)))
        .collect();
    for_each_range(jobs.len(), 1, |range| {
        for j in range {
            let mut guard = jobs[j].lock().unwrap_or_else(PoisonError::into_inner);
            let (p, m, v, g) = &mut *guard;
            update_chunk(p, m, v, g, k, config);
        }
    });
    Ok(())
}

fn update_chunk(
    params: &mut [f32],
    m: &mut [f32],
    v: &mut [f32],
    grads: &[f32],
    k: StepScalars,
    config: &AdamWConfig,
) {
    let (beta1, beta2, eps) = (config.beta1, config.beta2, config.eps);
    let (w1, w2) = (1.0 - beta1, 1.0 - beta2);
    for (((p, m), v), &g) in params.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(grads) {
        *p *= k.decay;
        *m += w1 * (g - *m);
        *v = beta2 * *v + w2 * g * g;
        *p -= k.step_size * *m / (v.sqrt() / k.bc2_sqrt + eps);
    }
}

pub mod reference {
    //! The spec: the textbook AdamW formulas per element in f64 (moments stored back as f32).

    use super::{check_call, AdamWConfig, AdamWStep};
    use crate::error::Result;

    /// Reference for [`super::adamw_update`] (same buffers and errors).
    pub fn adamw_update_ref(
        params: &mut [f32],
        m: &mut [f32],
        v: &mut [f32],
        grads: &[f32],
        call: AdamWStep,
        config: &AdamWConfig,
    ) -> Result<()> {
        check_call(params.len(), [m.len(), v.len(), grads.len()], call, config)?;
        let AdamWStep { lr, weight_decay, step } = call;
        let (lr, wd) = (f64::from(lr), f64::from(weight_decay));
        let (b1, b2, eps) =
            (f64::from(config.beta1), f64::from(config.beta2), f64::from(config.eps));
        let s = step as f64;
        for i in 0..params.len() {
            let g = f64::from(grads[i]);
            let mi = b1 * f64::from(m[i]) + (1.0 - b1) * g;
            let vi = b2 * f64::from(v[i]) + (1.0 - b2) * g * g;
            let m_hat = mi / (1.0 - b1.powf(s));
            let v_hat = vi / (1.0 - b2.powf(s));
            let p = f64::from(params[i]) * (1.0 - lr * wd);
            params[i] = (p - lr * m_hat / (v_hat.sqrt() + eps)) as f32;
            m[i] = mi as f32;
            v[i] = vi as f32;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::reference::adamw_update_ref;
    use super::*;
    use crate::testing::{assert_close, random_vec};

    fn cfg(beta1: f32, beta2: f32, eps: f32) -> AdamWConfig {
        AdamWConfig { lr: 1e-3, beta1, beta2, eps, weight_decay: 0.0 }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn matches_reference_over_several_steps() {
        let config = AdamWConfig::default();
        // 70_001 elements take the threaded path (ragged chunks) where threads exist.
        for (i, &n) in [1usize, 3, 17, 63, 70_001].iter().enumerate() {
            let seed = i as u64 * 16;
            let params0 = random_vec(n, seed);
            let (mut p, mut m, mut v) = (params0.clone(), vec![0.0; n], vec![0.0; n]);
            let (mut pr, mut mr, mut vr) = (params0.clone(), vec![0.0; n], vec![0.0; n]);
            for step in 1..=5u64 {
                let grads = random_vec(n, seed + step);
                let (lr, wd) = (1e-2 * step as f32, if i % 2 == 0 { 0.1 } else { 0.0 });
                adamw_update(
                    &mut p,
                    &mut m,
                    &mut v,
                    &grads,
                    AdamWStep { lr, weight_decay: wd, step },
                    &config,
                )
                .unwrap();
                adamw_update_ref(
                    &mut pr,
                    &mut mr,
                    &mut vr,
                    &grads,
                    AdamWStep { lr, weight_decay: wd, step },
                    &config,
                )
                .unwrap();
                let what = format!("n {n} step {step}");
                assert_close(&p, &pr, 2e-6, 1e-5, &format!("{what} params"));
                assert_close(&m, &mr, 1e-7, 1e-5, &format!("{what} m"));
                assert_close(&v, &vr, 1e-9, 1e-5, &format!("{what} v"));
            }
            assert!(p.iter().zip(&params0).any(|(a, b)| a != b), "n {n}: params never moved");
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn first_step_matches_hand_computation() {
        // Step 1: m = 0.1·g, v = 0.001·g², m̂ = g, v̂ = g², so the Adam step is
        // lr · g / (|g| + ε) ≈ lr · sign(g). With lr = 0.1, wd = 0.01:
        //   p = 1,  g = 0.5: 1 · (1 − 0.001) − 0.1 · 0.5 / (0.5 + 1e-8) = 0.899 (+2e-9)
        //   p = −2, g = −3:  −2 · 0.999 + 0.1 · 3 / (3 + 1e-8)          = −1.898
        //   p = 4,  g = 0:   4 · 0.999                                  = 3.996
        let config = AdamWConfig::default();
        let (mut p, mut m, mut v) = (vec![1.0f32, -2.0, 4.0], vec![0.0; 3], vec![0.0; 3]);
        let g = [0.5f32, -3.0, 0.0];
        adamw_update(
            &mut p,
            &mut m,
            &mut v,
            &g,
            AdamWStep { lr: 0.1, weight_decay: 0.01, step: 1 },
            &config,
        )
        .unwrap();
        assert_close(&p, &[0.899, -1.898, 3.996], 1e-6, 1e-6, "params");
        assert_close(&m, &[0.05, -0.3, 0.0], 1e-8, 1e-6, "m");
        // β2 is an f32: 1 − 0.999f32 = 0.000_999_987, so v is off the decimal value by 1.3e-5.
        assert_close(&v, &[0.00025, 0.009, 0.0], 1e-10, 2e-5, "v");

        // Step 2 for the first element, by hand in f64 from the stored moments, g = 0.5 again:
        // m = 0.9·0.05 + 0.05 = 0.095, v = 0.999·0.00025 + 0.00025 = 0.00049975,
        // m̂ = 0.095 / 0.19 = 0.5, v̂ = 0.00049975 / 0.001999 = 0.25 → step 0.1 · 0.5 / 0.5.
        let (mut p1, mut m1, mut v1) = (vec![p[0]], vec![m[0]], vec![v[0]]);
        adamw_update(
            &mut p1,
            &mut m1,
            &mut v1,
            &[0.5],
            AdamWStep { lr: 0.1, weight_decay: 0.0, step: 2 },
            &config,
        )
        .unwrap();
        assert_close(&p1, &[0.799], 1e-6, 1e-6, "params step 2");
        assert_close(&m1, &[0.095], 1e-8, 1e-6, "m step 2");
        assert_close(&v1, &[0.000_499_75], 1e-10, 2e-5, "v step 2");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn no_weight_decay_is_adam() {
        // Kingma & Ba, Algorithm 1, in f64: θ ← θ − α · m̂ / (√v̂ + ε).
        let config = cfg(0.8, 0.99, 1e-6);
        let n = 19;
        let (mut p, mut m, mut v) = (random_vec(n, 1), vec![0.0f32; n], vec![0.0f32; n]);
        let mut theta: Vec<f64> = p.iter().map(|&x| f64::from(x)).collect();
        let (mut m64, mut v64) = (vec![0.0f64; n], vec![0.0f64; n]);
        for step in 1..=4u64 {
            let g = random_vec(n, 100 + step);
            adamw_update(
                &mut p,
                &mut m,
                &mut v,
                &g,
                AdamWStep { lr: 0.05, weight_decay: 0.0, step },
                &config,
            )
            .unwrap();
            let t = step as i32;
            for i in 0..n {
                let gi = f64::from(g[i]);
                m64[i] = 0.8 * m64[i] + 0.2 * gi;
                v64[i] = 0.99 * v64[i] + 0.01 * gi * gi;
                let m_hat = m64[i] / (1.0 - 0.8f64.powi(t));
                let v_hat = v64[i] / (1.0 - 0.99f64.powi(t));
                theta[i] -= 0.05 * m_hat / (v_hat.sqrt() + 1e-6);
            }
            let got: Vec<f64> = p.iter().map(|&x| f64::from(x)).collect();
            crate::testing::assert_close_f64(&got, &theta, 2e-6, 1e-5, &format!("step {step}"));
        }
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn zero_gradient_only_decays() {
        let config = AdamWConfig::default();
        let n = 17;
        let params0 = random_vec(n, 3);
        let (mut p, mut m, mut v) = (params0.clone(), vec![0.0; n], vec![0.0; n]);
        let (lr, wd) = (0.5f32, 0.1f32);
        adamw_update(
            &mut p,
            &mut m,
            &mut v,
            &vec![0.0; n],
            AdamWStep { lr, weight_decay: wd, step: 1 },
            &config,
        )
        .unwrap();
        let want: Vec<f32> = params0.iter().map(|&x| x * (1.0 - lr * wd)).collect();
        assert_close(&p, &want, 0.0, 1e-7, "decayed params");
        assert!(m.iter().chain(&v).all(|&x| x == 0.0));
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn bad_arguments_are_errors_and_write_nothing() {
        let ok = AdamWConfig::default();
        assert!(ok.validate().is_ok());
        let bad = [
            AdamWConfig { beta1: 1.0, ..ok },
            AdamWConfig { beta1: -0.1, ..ok },
            AdamWConfig { beta2: 1.5, ..ok },
            AdamWConfig { beta2: f32::NAN, ..ok },
            AdamWConfig { eps: 0.0, ..ok },
            AdamWConfig { lr: -1e-3, ..ok },
            AdamWConfig { weight_decay: -0.1, ..ok },
            AdamWConfig { lr: f32::INFINITY, ..ok },
        ];
        let (mut p, mut m, mut v, g) = (vec![1.0f32; 4], vec![0.0; 4], vec![0.0; 4], vec![1.0; 4]);
        for config in bad {
            assert!(matches!(config.validate(), Err(Error::InvalidArgument(_))), "{config:?}");
            let err = adamw_update(
                &mut p,
                &mut m,
                &mut v,
                &g,
                AdamWStep { lr: 0.1, weight_decay: 0.0, step: 1 },
                &config,
            );
            assert!(matches!(err, Err(Error::InvalidArgument(_))), "{config:?}");
        }
        let err = adamw_update(
            &mut p,
            &mut m,
            &mut v,
            &g,
            AdamWStep { lr: 0.1, weight_decay: 0.0, step: 0 },
            &ok,
        );
        assert!(matches!(err, Err(Error::InvalidArgument(ref s)) if s.contains("step")));
        let err = adamw_update(
            &mut p,
            &mut m,
            &mut v,
            &g,
            AdamWStep { lr: -0.1, weight_decay: 0.0, step: 1 },
            &ok,
        );
        assert!(matches!(err, Err(Error::InvalidArgument(ref s)) if s.contains("lr")));
        let err = adamw_update(
            &mut p,
            &mut m,
            &mut v,
            &g,
            AdamWStep { lr: 0.1, weight_decay: -1.0, step: 1 },
            &ok,
        );
        assert!(matches!(err, Err(Error::InvalidArgument(ref s)) if s.contains("weight_decay")));
        let err = adamw_update(
            &mut p,
            &mut m[..3],
            &mut v,
            &g,
            AdamWStep { lr: 0.1, weight_decay: 0.0, step: 1 },
            &ok,
        );
        assert_eq!(err, Err(Error::shape("adamw: m", 4, 3)));
        let err = adamw_update(
            &mut p,
            &mut m,
            &mut v[..2],
            &g,
            AdamWStep { lr: 0.1, weight_decay: 0.0, step: 1 },
            &ok,
        );
        assert_eq!(err, Err(Error::shape("adamw: v", 4, 2)));
        let err = adamw_update(
            &mut p,
            &mut m,
            &mut v,
            &g[..1],
            AdamWStep { lr: 0.1, weight_decay: 0.0, step: 1 },
            &ok,
        );
        assert_eq!(err, Err(Error::shape("adamw: grads", 4, 1)));
        assert!(p.iter().all(|&x| x == 1.0) && m.iter().chain(&v).all(|&x| x == 0.0));
    }
}

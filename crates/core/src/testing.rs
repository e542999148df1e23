//! Test helpers shared by kernel tests, integration tests and benches (feature `testing`):
//! a seeded RNG, closeness assertions with a readable report, and `gradcheck`, which compares
//! an analytic gradient with f64 central finite differences of a scalar loss.
//!
//! No external crates, so the helpers build the same natively and on wasm32.

/// SplitMix64: tiny, fast, and good enough for test data. Same seed → same stream everywhere.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator whose stream depends only on `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, with 24 random bits (every value exactly representable).
    pub fn next_unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 * (1.0 / (1u64 << 24) as f32)
    }

    /// Uniform in `[-1, 1)`.
    pub fn next_signed(&mut self) -> f32 {
        2.0 * self.next_unit() - 1.0
    }

    /// Uniform in `0..n` (`n > 0`; slightly biased for huge `n`, which tests never use).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// `len` values uniform in `[-1, 1)`, a pure function of `(len, seed)`.
pub fn random_vec(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.next_signed()).collect()
}

/// Panics unless `|got[i] - want[i]| <= atol + rtol * |want[i]|` for every `i` (and the lengths
/// match, and nothing is NaN). The message names `what`, the worst index and how many failed.
#[track_caller]
pub fn assert_close(got: &[f32], want: &[f32], atol: f32, rtol: f32, what: &str) {
    let got: Vec<f64> = got.iter().map(|&x| f64::from(x)).collect();
    let want: Vec<f64> = want.iter().map(|&x| f64::from(x)).collect();
    assert_close_f64(&got, &want, f64::from(atol), f64::from(rtol), what);
}

/// [`assert_close`] for `f64` data.
#[track_caller]
pub fn assert_close_f64(got: &[f64], want: &[f64], atol: f64, rtol: f64, what: &str) {
    if let Some(report) = close_report(got, want, atol, rtol, what) {
        panic!("{report}");
    }
}

/// `None` if `|got[i] - want[i]| <= atol + rtol * |want[i]|` everywhere (lengths equal, no
/// NaN), else a message naming `what`, the worst index and how many values failed.
pub fn close_report(got: &[f64], want: &[f64], atol: f64, rtol: f64, what: &str) -> Option<String> {
    if got.len() != want.len() {
        return Some(format!("{what}: length {} != expected {}", got.len(), want.len()));
    }
    let mut n_bad = 0usize;
    let mut worst: Option<(usize, f64)> = None; // (index, excess over the tolerance)
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let tol = atol + rtol * w.abs();
        let err = (g - w).abs();
        // `err` is NaN if either value is.
        if err.is_nan() || err > tol {
            n_bad += 1;
            let excess = if err.is_nan() { f64::INFINITY } else { err - tol };
            if worst.is_none_or(|(_, e)| excess > e) {
                worst = Some((i, excess));
            }
        }
    }
    worst.map(|(i, _)| {
        format!(
            "{what}: {n_bad} of {} values out of tolerance (atol {atol:e}, rtol {rtol:e}); \
             worst at [{i}]: got {}, want {}, |diff| {:e}",
            got.len(),
            got[i],
            want[i],
            (got[i] - want[i]).abs()
        )
    })
}

/// Central finite differences of `loss` at `x`: `(L(x + eps·e_i) - L(x - eps·e_i)) / (x⁺_i - x⁻_i)`
/// for every `i`, where `x±_i` are the perturbed values after rounding to `f32` and the
/// division is in `f64`. `loss` sees the whole perturbed input each time.
///
/// Cost: `2 · x.len()` evaluations of `loss`; keep `x` small.
pub fn numeric_grad(x: &[f32], eps: f32, mut loss: impl FnMut(&[f32]) -> f64) -> Vec<f64> {
    let mut probe = x.to_vec();
    (0..x.len())
        .map(|i| {
            let plus = x[i] + eps;
            let minus = x[i] - eps;
            probe[i] = plus;
            let l_plus = loss(&probe);
            probe[i] = minus;
            let l_minus = loss(&probe);
            probe[i] = x[i];
            (l_plus - l_minus) / (f64::from(plus) - f64::from(minus))
        })
        .collect()
}

/// Checks an analytic gradient `analytic = dL/dx` against [`numeric_grad`] of `loss` at `x`,
/// panicking like [`assert_close`] (tolerances in `f64`) if they differ.
///
/// Make `loss` compute in f64 (e.g. over a `_ref` kernel's output, `Σ out_i · w_i` with fixed
/// random `w`), so rounding noise stays far below `atol`.
#[track_caller]
pub fn gradcheck(
    what: &str,
    x: &[f32],
    analytic: &[f32],
    eps: f32,
    atol: f64,
    rtol: f64,
    loss: impl FnMut(&[f32]) -> f64,
) {
    let numeric = numeric_grad(x, eps, loss);
    let analytic: Vec<f64> = analytic.iter().map(|&g| f64::from(g)).collect();
    assert_close_f64(&analytic, &numeric, atol, rtol, what);
}

/// `Σ_i out_i · w_i` in f64: the usual scalar loss for gradchecks, whose `dL/dout` is `w`.
pub fn dot_loss(out: &[f32], w: &[f32]) -> f64 {
    out.iter().zip(w).map(|(&o, &w)| f64::from(o) * f64::from(w)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn random_vec_is_seeded_and_in_range() {
        let a = random_vec(1000, 7);
        assert_eq!(a, random_vec(1000, 7));
        assert_ne!(a, random_vec(1000, 8));
        assert!(a.iter().all(|&x| (-1.0..1.0).contains(&x)));
        let mean = a.iter().map(|&x| f64::from(x)).sum::<f64>() / 1000.0;
        assert!(mean.abs() < 0.1, "mean {mean}");
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn gradcheck_accepts_a_right_gradient() {
        // L(x) = Σ x_i³ → dL/dx_i = 3 x_i².
        let x = random_vec(9, 1);
        let grad: Vec<f32> = x.iter().map(|&v| 3.0 * v * v).collect();
        let loss = |x: &[f32]| x.iter().map(|&v| f64::from(v).powi(3)).sum::<f64>();
        gradcheck("cube", &x, &grad, 1e-3, 1e-4, 1e-3, loss);
    }

    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    fn assert_close_reports_differences() {
        assert_close(&[1.0, 2.0], &[1.0, 2.0 + 1e-7], 0.0, 1e-6, "equal enough");
        let x = random_vec(4, 2);
        let numeric = numeric_grad(&x, 1e-3, |x| x.iter().map(|&v| f64::from(v) * 2.0).sum());
        assert!(numeric.iter().all(|g| (g - 2.0).abs() < 1e-9), "{numeric:?}");
        // Failures are reported, not panicked on, by `close_report` (wasm tests cannot catch
        // panics, so the rejecting side is checked here).
        let report = close_report(&[1.0, f64::NAN, 5.0], &[1.0, 1.0, 1.0], 1e-3, 0.0, "bad");
        let report = report.expect("NaN and 5 vs 1 must be rejected");
        assert!(report.starts_with("bad: 2 of 3 values"), "{report}");
        assert!(close_report(&[1.0], &[1.0, 2.0], 1.0, 1.0, "len").is_some());
    }
}

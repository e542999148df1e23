//! Tests of [`super`]: quantisation error, the kernels against the f64 reference on the
//! quantised values (within f32 rounding) and against the float product (within the
//! quantisation error bound derived below), the overflow edge, non-finite input and errors.

use super::reference::linear_int8_ref;
use super::*;
use crate::error::Error;
use crate::testing::random_vec;

/// Ragged sizes around the 8-wide K step, the 4×2 tile and the thread split.
const SIZES: [usize; 7] = [1, 3, 17, 63, 64, 65, 130];
const SCALES: [Scales; 3] = [Scales::PerChannel, Scales::Block(32), Scales::Block(8)];
const EPS: f64 = f32::EPSILON as f64;

/// (M, K, N) covering the few-rows path (M ≤ 8), the tiled path, and K over one segment.
fn shapes() -> Vec<(usize, usize, usize)> {
    let mut dims = Vec::new();
    for (x, &m) in [1, 3, 8, 9, 17, 65].iter().enumerate() {
        for (y, &n) in SIZES.iter().enumerate() {
            dims.push((m, SIZES[(x + 2 * y) % SIZES.len()], n));
        }
    }
    dims.extend([(1, 2100, 9), (5, 4100, 3), (13, 2048, 5)]);
    dims
}

/// Values of mixed magnitude (a few outliers, as in trained weights) so blocks and channels
/// get different scales.
fn data(len: usize, seed: u64) -> Vec<f32> {
    let mut v = random_vec(len, seed);
    for (i, x) in v.iter_mut().enumerate() {
        if i % 37 == 5 {
            *x *= 8.0;
        }
    }
    v
}

fn run(x: &[f32], w: &Int8Weight, bias: Option<&[f32]>, m: usize) -> Vec<f32> {
    let mut out = vec![f32::NAN; m * w.n()];
    linear_int8_infer(&mut out, x, w, bias, m).unwrap();
    out
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn quantisation_error_is_at_most_half_a_step() {
    for scales in SCALES {
        let (n, k) = (5, 77);
        let w = data(n * k, 1);
        let q = quantize_weight(&w, n, k, scales).unwrap();
        let deq = q.dequantize();
        for j in 0..n {
            for p in 0..k {
                let s = q.scales()[j * q.n_blocks() + p / q.block()];
                let err = (w[j * k + p] - deq[j * k + p]).abs();
                assert!(err <= 0.5 * s * (1.0 + 1e-5), "{scales:?} w[{j},{p}] err {err} step {s}");
            }
        }
        assert!(q.q().iter().all(|&v| v != i8::MIN));
        // Each block's largest magnitude maps to ±127.
        assert!(q.q().iter().any(|&v| v.abs() == 127));
    }
    let x = data(3 * 41, 2);
    let rows = quantize_rows(&x, 3, 41);
    for i in 0..3 {
        let max = x[i * 41..(i + 1) * 41].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert_eq!(rows.scales[i], max / 32767.0);
        for p in 0..41 {
            let err = (x[i * 41 + p] - rows.scales[i] * f32::from(rows.q[i * 48 + p])).abs();
            assert!(err <= 0.5 * rows.scales[i] * (1.0 + 1e-4), "x[{i},{p}] err {err}");
        }
        assert!(rows.q[i * 48 + 41..(i + 1) * 48].iter().all(|&v| v == 0), "padding");
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn matches_reference_and_float_product_within_derived_bounds() {
    for (case, &(m, k, n)) in shapes().iter().enumerate() {
        let (x, w, bias) = (data(m * k, 10 + case as u64), data(n * k, 20), random_vec(n, 3));
        for scales in SCALES {
            let q = quantize_weight(&w, n, k, scales).unwrap();
            let rows = quantize_rows(&x, m, k);
            let deq = q.dequantize();
            for bias in [None, Some(bias.as_slice())] {
                let got = run(&x, &q, bias, m);
                let want = linear_int8_ref(&rows, &q, bias);
                let segments = k.div_ceil(SEGMENT.min(q.block())) as f64;
                for i in 0..m {
                    let sx = f64::from(rows.scales[i]);
                    for j in 0..n {
                        let (mut abs_q, mut abs_f, mut exact, mut quant_err) = (0.0, 0.0, 0.0, 0.0);
                        for p in 0..k {
                            let (xv, wv) = (f64::from(x[i * k + p]), f64::from(w[j * k + p]));
                            let xq = sx * f64::from(rows.q[i * rows.k8 + p]);
                            let sw = f64::from(q.scales()[j * q.n_blocks() + p / q.block()]);
                            abs_q += (xq * f64::from(deq[j * k + p])).abs();
                            abs_f += (xv * wv).abs();
                            exact += xv * wv;
                            // x·w − x̂·ŵ = (x − x̂)·w + x̂·(w − ŵ), |x − x̂| ≤ sx/2, |w − ŵ| ≤ sw/2
                            quant_err += 0.5 * sx * wv.abs() + 0.5 * xq.abs() * sw;
                        }
                        let b = bias.map_or(0.0, |b| f64::from(b[j]));
                        exact += b;
                        // f32 rounding: per segment one i32→f32 conversion, one multiply-add
                        // per lane, the 4-lane sum, the activation scale and the bias.
                        let rounding = (segments + 8.0) * EPS * (abs_q + b.abs());
                        let g = f64::from(got[i * n + j]);
                        let what =
                            format!("{m}x{k}x{n} {scales:?} bias {} [{i},{j}]", bias.is_some());
                        assert!(
                            (g - want[i * n + j]).abs() <= rounding,
                            "{what}: {g} vs ref {}",
                            want[i * n + j]
                        );
                        let bound = quant_err + rounding + 4.0 * EPS * abs_f;
                        assert!(
                            (g - exact).abs() <= bound,
                            "{what}: {g} vs f32 {exact} bound {bound}"
                        );
                    }
                }
            }
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn full_scale_products_do_not_overflow_at_the_segment_bound() {
    // Every weight ±127 and every activation 32767: each i32 lane of a segment of 2048 sums
    // 512 products of 4 161 409, 2 130 641 408 (just under 2³¹ − 1); one product more per
    // lane (K = 2064 in one segment) would overflow. K spans 1, 2 and 3 segments.
    for k in [SEGMENT, 2 * SEGMENT, 3 * SEGMENT + 8] {
        let n = 3;
        let mut w = vec![1.0f32; n * k];
        w[k..2 * k].fill(-1.0);
        for (p, v) in w[2 * k..].iter_mut().enumerate() {
            *v = if p % 2 == 0 { 1.0 } else { -1.0 };
        }
        for scales in [Scales::PerChannel, Scales::Block(SEGMENT)] {
            let q = quantize_weight(&w, n, k, scales).unwrap();
            assert!(q.q().iter().take(k).all(|&v| v == 127));
            for m in [1, 12] {
                let x = vec![1.0f32; m * k];
                assert!(quantize_rows(&x, m, k).q.iter().take(k).all(|&v| v == 32767));
                let got = run(&x, &q, None, m);
                let kf = k as f32;
                for i in 0..m {
                    let row = &got[i * n..(i + 1) * n];
                    let tol = 1e-5 * kf;
                    assert!((row[0] - kf).abs() <= tol, "k {k} {scales:?}: {} vs {kf}", row[0]);
                    assert!((row[1] + kf).abs() <= tol, "k {k} {scales:?}: {} vs -{kf}", row[1]);
                    assert!(row[2].abs() <= tol, "k {k} {scales:?}: {} vs 0", row[2]);
                }
            }
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn non_finite_rows_give_nan_and_zero_rows_give_bias() {
    let (m, k, n) = (3, 10, 4);
    let mut x = random_vec(m * k, 1);
    x[3] = f32::NAN;
    x[k..2 * k].fill(0.0);
    x[2 * k + 7] = f32::INFINITY;
    let q = quantize_weight(&random_vec(n * k, 2), n, k, Scales::PerChannel).unwrap();
    let bias = [1.0, 2.0, 3.0, 4.0];
    let got = run(&x, &q, Some(&bias), m);
    assert!(got[..n].iter().all(|v| v.is_nan()));
    assert_eq!(got[n..2 * n], bias);
    assert!(got[2 * n..].iter().all(|v| v.is_nan()));
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn rejects_bad_weights_blocks_and_lengths() {
    let bad = |r: Result<Int8Weight>| matches!(r, Err(Error::InvalidArgument(_)));
    assert!(bad(quantize_weight(&[0.0, f32::NAN], 1, 2, Scales::PerChannel)));
    for block in [0, 4, 12, SEGMENT + 8] {
        assert!(bad(quantize_weight(&[0.0; 8], 1, 8, Scales::Block(block))), "block {block}");
    }
    let shape = |r: Result<()>| matches!(r, Err(Error::Shape { .. }));
    assert!(matches!(
        quantize_weight(&[0.0; 7], 2, 4, Scales::PerChannel),
        Err(Error::Shape { .. })
    ));
    let q = quantize_weight(&[0.5; 8], 2, 4, Scales::PerChannel).unwrap();
    let mut out = vec![0.0; 2];
    assert!(shape(linear_int8_infer(&mut out, &[0.0; 5], &q, None, 1)));
    assert!(shape(linear_int8_infer(&mut out, &[0.0; 4], &q, Some(&[0.0]), 1)));
    assert!(shape(linear_int8_infer(&mut out[..1], &[0.0; 4], &q, None, 1)));
    assert!(linear_int8_infer(&mut out, &[0.0; 4], &q, None, 1).is_ok());
}

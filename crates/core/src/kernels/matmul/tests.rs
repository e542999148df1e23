//! Tests of [`super`]: every form and pass against the f64 reference on ragged shapes, the
//! batched and triangular variants, and the shape errors.

use super::reference::{matmul_backward_ref, matmul_forward_ref};
use super::Triangle;
use super::*;
use crate::error::Error;
use crate::kernels::gemm::{Blocking, MR, NR};
use crate::testing::{assert_close, dot_loss, gradcheck, random_vec};

const FORMS: [MatmulForm; 3] = [MatmulForm::AB, MatmulForm::ABt, MatmulForm::AtB];
/// Ragged sizes around the tile (4 × 8) and block edges.
const SIZES: [usize; 8] = [1, 3, 4, 8, 17, 63, 65, 130];
/// Blocks so small that the shapes above cross every K-block, A-block, packed-B column
/// block and thread-task boundary.
const TINY: Blocking = Blocking { kc: 5, mc: 2 * MR, pack_b_cap: 40 * NR, min_task_macs: 1 };

/// Every (M, N) pair of `SIZES`, K cycling through `SIZES` and 2100 (three K-blocks of 700
/// under [`BLOCKING`]).
fn shapes() -> Vec<MatmulDims> {
    let ks = [SIZES.as_slice(), &[2100]].concat();
    let mut dims = Vec::new();
    for (x, &m) in SIZES.iter().enumerate() {
        for (y, &n) in SIZES.iter().enumerate() {
            dims.push(MatmulDims::new(m, ks[(x + 2 * y) % ks.len()], n));
        }
    }
    dims
}

/// Tolerance for f32 sums of `k` products of values in [-1, 1] against the f64 reference.
fn atol(k: usize) -> f32 {
    1e-6 * (k as f32 + 1.0)
}

fn seed(dims: MatmulDims, form: MatmulForm, salt: u64) -> u64 {
    (((dims.m * 1000 + dims.k) * 1000 + dims.n) as u64) * 16 + form as u64 * 4 + salt
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn forward_matches_reference() {
    for form in FORMS {
        for dims in shapes() {
            let MatmulDims { m, k, n } = dims;
            let a = random_vec(m * k, seed(dims, form, 0));
            let b = random_vec(k * n, seed(dims, form, 1));
            let bias = random_vec(n, seed(dims, form, 2));
            for bias in [None, Some(bias.as_slice())] {
                let what = format!("{form:?} {dims:?} bias={}", bias.is_some());
                let mut want = vec![0.0; m * n];
                matmul_forward_ref(&mut want, &a, &b, bias, dims, form).unwrap();
                // NaN-filled: the forward must assign every element, not add.
                let mut got = vec![f32::NAN; m * n];
                matmul_forward(&mut got, &a, &b, bias, dims, form).unwrap();
                assert_close(&got, &want, atol(k), 1e-5, &what);
                got.fill(f32::NAN);
                gemm(&mut got, operands(&a, &b, dims, form), bias, false, &TINY);
                assert_close(&got, &want, atol(k), 1e-5, &format!("{what} tiny blocks"));
            }
        }
    }
}

/// Triangular products (causal attention's): with `A` zero where the [`Triangle`] says, every
/// output element equals the dense reference; with `OutLower`, every `out[i, j]`, `j <= i`,
/// does, and tiles wholly above the diagonal keep what `out` held. Square and not, K over
/// several blocks (`TINY`: a tile row whose contraction starts in a later K-block stores
/// zeros first).
#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn triangular_products_match_reference() {
    const SENTINEL: f32 = 12345.0;
    let sizes = [1, 3, 4, 9, 17, 33];
    for form in FORMS {
        for triangle in [Triangle::OutLower, Triangle::ALower, Triangle::AUpper] {
            for (x, &m) in sizes.iter().enumerate() {
                for (y, &n) in sizes.iter().enumerate() {
                    let k = if triangle == Triangle::OutLower {
                        sizes[(x + y) % sizes.len()]
                    } else {
                        m
                    };
                    let dims = MatmulDims::new(m, k, n);
                    let mut a = random_vec(m * k, seed(dims, form, 0));
                    let b = random_vec(k * n, seed(dims, form, 1));
                    for i in 0..m {
                        for p in 0..k {
                            let zero = match triangle {
                                Triangle::ALower => p > i,
                                Triangle::AUpper => p < i,
                                _ => false,
                            };
                            if zero {
                                a[if form == MatmulForm::AtB { p * m + i } else { i * k + p }] =
                                    0.0;
                            }
                        }
                    }
                    let mut want = vec![0.0; m * n];
                    matmul_forward_ref(&mut want, &a, &b, None, dims, form).unwrap();
                    for blk in [&BLOCKING, &TINY] {
                        let what = format!("{form:?} {triangle:?} {dims:?} kc={}", blk.kc);
                        let mut got = vec![SENTINEL; m * n];
                        gemm(
                            &mut got,
                            Gemm { triangle, ..operands(&a, &b, dims, form) },
                            None,
                            false,
                            blk,
                        );
                        for i in 0..m {
                            for j in 0..n {
                                let (g, w) = (got[i * n + j], want[i * n + j]);
                                // Far enough right, the tile of (i, j) lies wholly above the
                                // diagonal wherever the threads' row blocks start.
                                let far = j + 1 >= i + MR + NR;
                                let close = (g - w).abs() <= atol(k) + 1e-5 * w.abs();
                                if triangle == Triangle::OutLower && j > i {
                                    let ok = g == SENTINEL || (close && !far);
                                    assert!(ok, "{what}: out[{i}, {j}] = {g}, above the diagonal");
                                } else {
                                    assert!(close, "{what}: out[{i}, {j}] = {g}, want {w}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn backward_matches_reference_and_accumulates() {
    for form in FORMS {
        for dims in shapes().into_iter().step_by(3) {
            let MatmulDims { m, k, n } = dims;
            let what = format!("{form:?} {dims:?}");
            let a = random_vec(m * k, seed(dims, form, 0));
            let b = random_vec(k * n, seed(dims, form, 1));
            let dout = random_vec(m * n, seed(dims, form, 2));
            // Start from nonzero gradients: backward must add to them.
            let (da0, db0) = (random_vec(m * k, 5), random_vec(k * n, 6));
            let dbias0 = random_vec(n, 7);
            let (mut da_want, mut db_want, mut dbias_want) =
                (da0.clone(), db0.clone(), dbias0.clone());
            matmul_backward_ref(
                MatmulGrads { da: &mut da_want, db: &mut db_want, dbias: Some(&mut dbias_want) },
                &dout,
                &a,
                &b,
                dims,
                form,
            )
            .unwrap();
            let (mut da, mut db, mut dbias) = (da0.clone(), db0.clone(), dbias0.clone());
            matmul_backward(
                MatmulGrads { da: &mut da, db: &mut db, dbias: Some(&mut dbias) },
                &dout,
                &a,
                &b,
                dims,
                form,
            )
            .unwrap();
            assert_close(&da, &da_want, atol(n), 1e-5, &format!("{what} da"));
            assert_close(&db, &db_want, atol(m), 1e-5, &format!("{what} db"));
            assert_close(&dbias, &dbias_want, atol(m), 1e-5, &format!("{what} dbias"));

            let (mut da, mut db) = (da0.clone(), db0.clone());
            backward_with(
                &mut da,
                &mut db,
                &dout,
                &a,
                &b,
                Backward { dims, form, batch: 1, mode: InputGrad::Add },
                &TINY,
            );
            assert_close(&da, &da_want, atol(n), 1e-5, &format!("{what} da tiny blocks"));
            assert_close(&db, &db_want, atol(m), 1e-5, &format!("{what} db tiny blocks"));

            // Assigned da: what it held (da0) is overwritten, db still added to.
            let (mut da_only, mut db_unused) = (vec![0.0; m * k], vec![0.0; k * n]);
            matmul_backward_ref(
                MatmulGrads { da: &mut da_only, db: &mut db_unused, dbias: None },
                &dout,
                &a,
                &b,
                dims,
                form,
            )
            .unwrap();
            let (mut da, mut db, mut dbias) = (da0.clone(), db0.clone(), dbias0.clone());
            matmul_backward_into(
                InputGrad::Assign,
                MatmulGrads { da: &mut da, db: &mut db, dbias: Some(&mut dbias) },
                &dout,
                &a,
                &b,
                dims,
                form,
            )
            .unwrap();
            assert_close(&da, &da_only, atol(n), 1e-5, &format!("{what} assigned da"));
            assert_close(&db, &db_want, atol(m), 1e-5, &format!("{what} db (da assigned)"));
            assert_close(
                &dbias,
                &dbias_want,
                atol(m),
                1e-5,
                &format!("{what} dbias (da assigned)"),
            );
            let (mut da, mut db) = (da0.clone(), db0.clone());
            backward_with(
                &mut da,
                &mut db,
                &dout,
                &a,
                &b,
                Backward { dims, form, batch: 1, mode: InputGrad::Assign },
                &TINY,
            );
            assert_close(&da, &da_only, atol(n), 1e-5, &format!("{what} assigned da tiny blocks"));
            assert_close(
                &db,
                &db_want,
                atol(m),
                1e-5,
                &format!("{what} db tiny blocks (da assigned)"),
            );
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn reference_backward_passes_gradcheck_and_fast_backward_agrees() {
    for form in FORMS {
        for dims in [MatmulDims::new(3, 4, 5), MatmulDims::new(1, 7, 2), MatmulDims::new(6, 1, 9)] {
            let MatmulDims { m, k, n } = dims;
            let what = format!("{form:?} {dims:?}");
            let a = random_vec(m * k, seed(dims, form, 0));
            let b = random_vec(k * n, seed(dims, form, 1));
            let bias = random_vec(n, seed(dims, form, 2));
            let w = random_vec(m * n, seed(dims, form, 3)); // L = Σ out · w, so dout = w
            let loss = |a: &[f32], b: &[f32], bias: &[f32]| {
                let mut out = vec![0.0; m * n];
                matmul_forward_ref(&mut out, a, b, Some(bias), dims, form).unwrap();
                dot_loss(&out, &w)
            };
            let (mut da, mut db, mut dbias) = (vec![0.0; m * k], vec![0.0; k * n], vec![0.0; n]);
            matmul_backward_ref(
                MatmulGrads { da: &mut da, db: &mut db, dbias: Some(&mut dbias) },
                &w,
                &a,
                &b,
                dims,
                form,
            )
            .unwrap();
            let (eps, gatol, grtol) = (1e-2, 1e-4, 1e-3);
            gradcheck(&format!("{what} da"), &a, &da, eps, gatol, grtol, |a| loss(a, &b, &bias));
            gradcheck(&format!("{what} db"), &b, &db, eps, gatol, grtol, |b| loss(&a, b, &bias));
            gradcheck(&format!("{what} dbias"), &bias, &dbias, eps, gatol, grtol, |bias| {
                loss(&a, &b, bias)
            });

            let (mut fa, mut fb, mut fbias) = (vec![0.0; m * k], vec![0.0; k * n], vec![0.0; n]);
            matmul_backward(
                MatmulGrads { da: &mut fa, db: &mut fb, dbias: Some(&mut fbias) },
                &w,
                &a,
                &b,
                dims,
                form,
            )
            .unwrap();
            assert_close(&fa, &da, 1e-6, 1e-5, &format!("{what} fast da"));
            assert_close(&fb, &db, 1e-6, 1e-5, &format!("{what} fast db"));
            assert_close(&fbias, &dbias, 1e-6, 1e-5, &format!("{what} fast dbias"));
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn batched_matches_per_matrix_loop() {
    let dims_list =
        [MatmulDims::new(17, 9, 5), MatmulDims::new(3, 65, 20), MatmulDims::new(1, 1, 1)];
    for form in FORMS {
        for dims in dims_list {
            for batch in [1, 3, 5] {
                let MatmulDims { m, k, n } = dims;
                let what = format!("{form:?} {dims:?} batch={batch}");
                let (sa, sb, so) = (m * k, k * n, m * n);
                let a = random_vec(batch * sa, seed(dims, form, 0));
                let b = random_vec(batch * sb, seed(dims, form, 1));
                let dout = random_vec(batch * so, seed(dims, form, 2));
                let (da0, db0) = (random_vec(batch * sa, 3), random_vec(batch * sb, 4));

                let mut want = vec![0.0; batch * so];
                let (mut da_want, mut db_want) = (da0.clone(), db0.clone());
                for t in 0..batch {
                    let (a, b) = (&a[t * sa..][..sa], &b[t * sb..][..sb]);
                    matmul_forward(&mut want[t * so..][..so], a, b, None, dims, form).unwrap();
                    let (da, db) = (&mut da_want[t * sa..][..sa], &mut db_want[t * sb..][..sb]);
                    matmul_backward(
                        MatmulGrads { da, db, dbias: None },
                        &dout[t * so..][..so],
                        a,
                        b,
                        dims,
                        form,
                    )
                    .unwrap();
                }
                let mut got = vec![f32::NAN; batch * so];
                matmul_batched_forward(&mut got, &a, &b, batch, dims, form).unwrap();
                assert_close(&got, &want, 1e-6, 1e-6, &what);
                got.fill(f32::NAN);
                gemm_batched(&mut got, operands(&a, &b, dims, form), batch, false, &TINY);
                assert_close(&got, &want, atol(k), 1e-5, &format!("{what} tiny blocks"));

                let (mut da, mut db) = (da0.clone(), db0.clone());
                matmul_batched_backward(
                    MatmulGrads { da: &mut da, db: &mut db, dbias: None },
                    &dout,
                    &a,
                    &b,
                    batch,
                    dims,
                    form,
                )
                .unwrap();
                assert_close(&da, &da_want, 1e-6, 1e-6, &format!("{what} da"));
                assert_close(&db, &db_want, 1e-6, 1e-6, &format!("{what} db"));
            }
        }
    }
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn wrong_lengths_are_shape_errors() {
    let dims = MatmulDims::new(2, 3, 4);
    let (a, b, out, bias) = (vec![0.0; 6], vec![0.0; 12], vec![0.0; 8], vec![0.0; 4]);
    let shape = |what: &str, expected, got| Err(Error::shape(what, expected, got));
    let fwd = |out: &mut [f32], a: &[f32], b: &[f32], bias: Option<&[f32]>| {
        matmul_forward(out, a, b, bias, dims, MatmulForm::ABt)
    };
    assert_eq!(fwd(&mut out.clone(), &a[..5], &b, None), shape("matmul: a", 6, 5));
    assert_eq!(fwd(&mut out.clone(), &a, &b[..11], None), shape("matmul: b", 12, 11));
    assert_eq!(fwd(&mut [0.0; 9], &a, &b, None), shape("matmul: out", 8, 9));
    assert_eq!(fwd(&mut out.clone(), &a, &b, Some(&bias[..3])), shape("matmul: bias", 4, 3));
    assert_eq!(fwd(&mut out.clone(), &a, &b, Some(&bias)), Ok(()));

    let (mut da, mut db, mut dbias) = (a.clone(), b.clone(), bias.clone());
    let form = MatmulForm::AtB;
    let r = matmul_backward(
        MatmulGrads { da: &mut da[..5], db: &mut db, dbias: None },
        &out,
        &a,
        &b,
        dims,
        form,
    );
    assert_eq!(r, shape("matmul: da", 6, 5));
    let r = matmul_backward(
        MatmulGrads { da: &mut da, db: &mut db[..1], dbias: None },
        &out,
        &a,
        &b,
        dims,
        form,
    );
    assert_eq!(r, shape("matmul: db", 12, 1));
    let r = matmul_backward(
        MatmulGrads { da: &mut da, db: &mut db, dbias: Some(&mut dbias[..2]) },
        &out,
        &a,
        &b,
        dims,
        form,
    );
    assert_eq!(r, shape("matmul: bias", 4, 2));
    let r = matmul_backward(
        MatmulGrads { da: &mut da, db: &mut db, dbias: None },
        &out[..7],
        &a,
        &b,
        dims,
        form,
    );
    assert_eq!(r, shape("matmul: out", 8, 7));

    let r =
        matmul_batched_forward(&mut [0.0; 16], &a, &[b.clone(), b.clone()].concat(), 2, dims, form);
    assert_eq!(r, shape("matmul: a", 12, 6));
    let r = matmul_batched_backward(
        MatmulGrads { da: &mut da, db: &mut db, dbias: None },
        &out,
        &a,
        &b,
        2,
        dims,
        form,
    );
    assert_eq!(r, shape("matmul: a", 12, 6));
    let huge = MatmulDims::new(usize::MAX, 2, 1);
    let r = matmul_forward(&mut [], &[], &[], None, huge, MatmulForm::AB);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn zero_dimensions_are_allowed() {
    for form in FORMS {
        // K = 0: out = bias (or zeros); backward leaves the gradients as they were, but
        // dbias still gets Σ_i dout.
        let dims = MatmulDims::new(2, 0, 3);
        let bias = [1.0, 2.0, 3.0];
        let mut out = vec![f32::NAN; 6];
        matmul_forward(&mut out, &[], &[], Some(&bias), dims, form).unwrap();
        assert_eq!(out, [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
        matmul_forward(&mut out, &[], &[], None, dims, form).unwrap();
        assert_eq!(out, [0.0; 6]);
        let mut dbias = [1.0; 3];
        let dout = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        matmul_backward(
            MatmulGrads { da: &mut [], db: &mut [], dbias: Some(&mut dbias) },
            &dout,
            &[],
            &[],
            dims,
            form,
        )
        .unwrap();
        assert_eq!(dbias, [6.0, 8.0, 10.0]);
        // M = 0 or N = 0: nothing to do.
        for dims in [MatmulDims::new(0, 3, 2), MatmulDims::new(2, 3, 0)] {
            let (a, b) = (vec![1.0; dims.m * dims.k], vec![1.0; dims.k * dims.n]);
            let (mut da, mut db) = (a.clone(), b.clone());
            matmul_forward(&mut [], &a, &b, Some(&vec![0.0; dims.n]), dims, form).unwrap();
            matmul_backward(
                MatmulGrads { da: &mut da, db: &mut db, dbias: Some(&mut vec![0.0; dims.n]) },
                &[],
                &a,
                &b,
                dims,
                form,
            )
            .unwrap();
            assert_eq!((da, db), (a.clone(), b.clone()));
            matmul_batched_forward(
                &mut [],
                &[a.clone(), a].concat(),
                &[b.clone(), b].concat(),
                2,
                dims,
                form,
            )
            .unwrap();
        }
        matmul_batched_forward(&mut [], &[], &[], 0, MatmulDims::new(2, 3, 4), form).unwrap();
        let mut out = vec![f32::NAN; 12];
        matmul_batched_forward(&mut out, &[], &[], 2, MatmulDims::new(2, 0, 3), form).unwrap();
        assert_eq!(out, [0.0; 12]);
    }
}

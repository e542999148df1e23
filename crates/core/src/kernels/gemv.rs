//! A linear layer for a few rows at a time, `out = inp · weightᵀ (+ bias)`: the shape of one
//! decoding step (`M` = the batch of sequences, usually 1). Inference only (`_infer`): the
//! trainer always has `B·T` rows and uses [`super::matmul`].
//!
//! With `M` this small the product is bound by reading the weight once, so the packed gemm
//! (which copies `weight` into panels first) would read it twice. Here each weight row `n`
//! (`K` contiguous floats, PyTorch's `[out, in]` layout) is streamed once and dotted with the
//! `M` input rows while it sits in L1; the `N` outputs are split over threads.
//!
//! Shapes: `out: [M, N]`, `inp: [M, K]`, `weight: [N, K]`, `bias: [N]`. `mod reference` is
//! [`super::matmul::reference::matmul_forward_ref`] in the `ABt` form.

use super::matmul::{MatmulDims, MatmulForm};
use crate::error::Result;
use crate::par::for_each_row_block;
use crate::simd::{F32x4, LANES};

/// Rows up to which [`linear_forward_infer`] beats the packed gemm.
pub const MAX_ROWS: usize = 8;

/// Output columns one parallel task computes at least (about 64 KiB of weights at K = 256).
const MIN_COLUMNS_PER_TASK: usize = 64;

/// `out = inp · weightᵀ + bias` for `M ≤` [`MAX_ROWS`] (any `M` is correct, larger ones are
/// just slower than the gemm). `out: [M, N]`, `inp: [M, K]`, `weight: [N, K]`, `bias: [N]`.
/// Errors: [`crate::Error::Shape`] on a wrong length.
pub fn linear_forward_infer(
    out: &mut [f32],
    inp: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    dims: MatmulDims,
) -> Result<()> {
    dims.check(MatmulForm::ABt, inp.len(), weight.len(), out.len(), bias.map(<[f32]>::len))?;
    let MatmulDims { m, k, n } = dims;
    if m == 0 || n == 0 {
        return Ok(());
    }
    // Columns are computed into `[N, M]` (so threads own disjoint rows), then transposed.
    let mut columns = vec![0.0f32; n * m];
    for_each_row_block(&mut columns, m, MIN_COLUMNS_PER_TASK, |cols, block| {
        for (j, dst) in cols.zip(block.chunks_exact_mut(m)) {
            let w = &weight[j * k..(j + 1) * k];
            let b = bias.map_or(0.0, |bias| bias[j]);
            for (i, o) in dst.iter_mut().enumerate() {
                *o = b + dot(&inp[i * k..(i + 1) * k], w);
            }
        }
    });
    for (j, col) in columns.chunks_exact(m).enumerate() {
        for (i, &value) in col.iter().enumerate() {
            out[i * n + j] = value;
        }
    }
    Ok(())
}

/// `a · b` with four independent accumulators (16 floats per iteration) and a scalar tail.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const STEP: usize = 4 * LANES;
    let split = a.len() - a.len() % STEP;
    let mut acc = [F32x4::zero(); 4];
    for (x, y) in a[..split].chunks_exact(STEP).zip(b[..split].chunks_exact(STEP)) {
        for (lane, sum) in acc.iter_mut().enumerate() {
            let r = lane * LANES..(lane + 1) * LANES;
            *sum = F32x4::mul_add(F32x4::load(&x[r.clone()]), F32x4::load(&y[r]), *sum);
        }
    }
    let [s0, s1, s2, s3] = acc;
    let mut total = (s0 + s1 + (s2 + s3)).horizontal_sum();
    let (a_tail, b_tail) = (&a[split..], &b[split..]);
    let quads = a_tail.len() - a_tail.len() % LANES;
    let mut quad = F32x4::zero();
    for (x, y) in a_tail[..quads].chunks_exact(LANES).zip(b_tail[..quads].chunks_exact(LANES)) {
        quad = F32x4::mul_add(F32x4::load(x), F32x4::load(y), quad);
    }
    total += quad.horizontal_sum();
    total + a_tail[quads..].iter().zip(&b_tail[quads..]).map(|(x, y)| x * y).sum::<f32>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::matmul::reference::matmul_forward_ref;
    use crate::testing::{assert_close, random_vec};

    #[test]
    fn matches_reference_on_ragged_shapes() {
        for &(m, k, n) in &[
            (1, 1, 1),
            (1, 3, 17),
            (2, 17, 63),
            (3, 63, 130),
            (4, 64, 257),
            (8, 129, 65),
            (11, 5, 9),
        ] {
            let dims = MatmulDims::new(m, k, n);
            let (a, w, bias) = (random_vec(m * k, 1), random_vec(n * k, 2), random_vec(n, 3));
            for with_bias in [false, true] {
                let bias = with_bias.then_some(bias.as_slice());
                let (mut got, mut want) = (vec![f32::NAN; m * n], vec![0.0; m * n]);
                linear_forward_infer(&mut got, &a, &w, bias, dims).unwrap();
                matmul_forward_ref(&mut want, &a, &w, bias, dims, MatmulForm::ABt).unwrap();
                assert_close(
                    &got,
                    &want,
                    1e-5,
                    1e-5,
                    &format!("gemv {m}x{k}x{n} bias {with_bias}"),
                );
            }
        }
    }

    #[test]
    fn rejects_wrong_lengths() {
        let mut out = vec![0.0; 2 * 3];
        let err = linear_forward_infer(
            &mut out,
            &[0.0; 2 * 4],
            &[0.0; 3 * 5],
            None,
            MatmulDims::new(2, 4, 3),
        );
        assert!(err.is_err());
    }
}

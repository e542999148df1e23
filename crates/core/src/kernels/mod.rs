//! The kernels: each op's `_forward` / `_backward` pair, its f64 reference (`mod reference`)
//! and its tests in one file per op.

mod gemm;
pub mod matmul;
pub mod gemv;
pub mod attention;
mod attention_heads;
pub(crate) mod attention_infer;
pub mod attention_probs;
pub mod embedding;
pub mod rope;
pub mod norm;
pub mod glu;
pub mod softmax_xent;
pub mod residual;

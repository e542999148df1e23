//! The kernels: each op's `_forward` / `_backward` pair, its f64 reference (`mod reference`)
//! and its tests in one file per op.

pub mod attention;
mod attention_heads;
pub(crate) mod attention_infer;
pub mod attention_probs;
pub mod embedding;
mod gemm;
pub mod gemv;
pub mod glu;
pub mod int8;
pub mod matmul;
pub mod norm;
pub mod residual;
pub mod rope;
pub mod softmax_xent;

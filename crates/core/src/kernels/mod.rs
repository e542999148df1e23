//! The kernels: each op's `_forward` / `_backward` pair, its f64 reference (`mod reference`)
//! and its tests in one file per op.

mod gemm;
pub mod matmul;

//! wasmformer's numeric core: kernels with their backward passes, in plain Rust that builds
//! natively (for `cargo test` and benchmarks) and for wasm32 (simd128, relaxed-simd, threads).
//!
//! Shape legend used in every doc comment (row-major, last dimension contiguous):
//! `B` batch, `T` sequence, `C` n_embd, `H` n_head, `D` head dim, `F` FFN hidden width,
//! `V` vocabulary, `L` layers; for matmul `M`, `K`, `N` as in `[M, K] · [K, N] = [M, N]`.

pub mod error;
pub mod kernels;
pub mod math;
pub mod model;
pub mod optim;
pub mod par;
pub mod simd;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::{Error, Result};

/// Which SIMD code path this build runs: `"relaxed-simd"`, `"simd128"` or `"scalar"`.
pub fn simd_path() -> &'static str {
    simd::PATH
}

//! wasm-bindgen bindings over `wasmformer-core`. Thin by design: argument conversion and
//! error mapping only; validation that needs no Rust happens in ts/src first, and the core
//! checks every length again so a bad call returns an error, never a trap. Every entry point
//! takes its typed arrays, then one options object for the rest (`options.rs`).
//!
//! The same source builds four ways (scripts/build-wasm.mjs): `simd` (simd128), `relaxed`
//! (+relaxed-simd), `threads` (+atomics, shared memory, feature `threads`), `threads-relaxed`.

mod buffer;
mod error;
mod kernels;
mod model;
mod options;
#[cfg(feature = "threads")]
mod pool;

use wasm_bindgen::prelude::*;

/// What this build is: `{ simd: "simd128" | "relaxed-simd", threads: boolean }` as JSON text.
#[wasm_bindgen(js_name = buildInfo)]
pub fn build_info() -> String {
    format!(
        "{{\"simd\":\"{}\",\"threads\":{}}}",
        wasmformer_core::simd_path(),
        cfg!(feature = "threads")
    )
}

/// The number of threads kernels use now (1 until a pool is started).
#[wasm_bindgen(js_name = numThreads)]
pub fn num_threads() -> usize {
    wasmformer_core::par::num_threads()
}

/// Caps the threads kernels use (0 = the whole pool).
#[wasm_bindgen(js_name = setMaxThreads)]
pub fn set_max_threads(n_threads: usize) {
    wasmformer_core::par::set_max_threads(n_threads);
}

//! Kernel entry points for ts/src/kernels.ts. Each copies its typed arrays in, runs one core
//! kernel and copies results out; lengths are checked in TS first and again by the core.

use wasm_bindgen::prelude::*;
use wasmformer_core::kernels::matmul::{matmul_forward, MatmulDims, MatmulForm};

use crate::error::{js_error, to_js};

fn parse_form(form: &str) -> Result<MatmulForm, JsValue> {
    match form {
        "ab" => Ok(MatmulForm::AB),
        "abt" => Ok(MatmulForm::ABt),
        "atb" => Ok(MatmulForm::AtB),
        other => Err(js_error(
            "InvalidArgumentError",
            &format!("matmul: form must be \"ab\", \"abt\" or \"atb\", got {other:?}"),
        )),
    }
}

/// `out: [M, N] = op(a) · op(b) (+ bias: [N])`, where `form` says how a and b are stored:
/// `"ab"`: a [M, K], b [K, N]; `"abt"`: a [M, K], b [N, K]; `"atb"`: a [K, M], b [K, N].
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn matmul(
    out: &mut [f32],
    a: &[f32],
    b: &[f32],
    bias: Option<Box<[f32]>>,
    m: usize,
    k: usize,
    n: usize,
    form: &str,
) -> Result<(), JsValue> {
    let form = parse_form(form)?;
    matmul_forward(out, a, b, bias.as_deref(), MatmulDims { m, k, n }, form).map_err(to_js)
}

/// Splits `n_items` units of real work over the pool and returns how many each pool thread
/// did (index = thread) followed by the checksum's bits, so a test can see threads working.
#[wasm_bindgen(js_name = poolSmoke)]
pub fn pool_smoke(n_items: usize) -> Vec<f64> {
    let (checksum, per_thread) = wasmformer_core::par::pool_smoke(n_items);
    per_thread.into_iter().map(|c| c as f64).chain(std::iter::once(checksum)).collect()
}

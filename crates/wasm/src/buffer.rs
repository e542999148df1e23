//! Float32 arrays that live in WebAssembly memory (`WasmArray` in ts/src/kernels/wasm-array.ts),
//! so a kernel can be called on the same operands again and again without copying them in.
//! TS reads and writes the elements through a `Float32Array` view at [`F32Buffer::ptr`], one
//! copy each way.

use wasm_bindgen::prelude::*;

use wasmformer_core::kernels::matmul::matmul_forward;

use crate::error::{js_error, to_js};

/// `length` float32 elements owned by the module, zero-filled when made (TS keeps the length).
#[wasm_bindgen]
pub struct F32Buffer {
    data: Vec<f32>,
}

#[wasm_bindgen]
impl F32Buffer {
    /// `length` zeros, or `OutOfMemoryError` when the module cannot grow that far.
    #[wasm_bindgen(constructor)]
    pub fn new(length: usize) -> Result<F32Buffer, JsValue> {
        let mut data = Vec::new();
        data.try_reserve_exact(length).map_err(|_| {
            let bytes = length as u64 * 4;
            let message = format!("WasmArray: cannot allocate {length} float32 elements ({bytes} bytes) in WebAssembly memory");
            js_error("OutOfMemoryError", &message)
        })?;
        data.resize(length, 0.0);
        Ok(F32Buffer { data })
    }

    /// Byte offset of element 0 in the module's memory (valid until the buffer is freed).
    pub fn ptr(&self) -> usize {
        self.data.as_ptr() as usize
    }
}

/// [`crate::kernels::matmul`] over module-owned arrays: `out: [M, N] = op(a) · op(b) (+ bias: [N])`,
/// `options`: `{ m, k, n, form }` with a, b stored as `form` says (`"ab"`: a [M, K], b [K, N];
/// `"abt"`: b [N, K]; `"atb"`: a [K, M]). `out` must be a different buffer from `a` and `b`.
#[wasm_bindgen(js_name = matmulBuffers)]
pub fn matmul_buffers(
    out: &mut F32Buffer,
    a: &F32Buffer,
    b: &F32Buffer,
    bias: Option<Box<[f32]>>,
    options: &JsValue,
) -> Result<(), JsValue> {
    let (dims, form) = crate::kernels::matmul_options(options, "matmulBuffers")?;
    matmul_forward(&mut out.data, &a.data, &b.data, bias.as_deref(), dims, form).map_err(to_js)
}

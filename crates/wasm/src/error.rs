//! Turns core errors into JavaScript `Error`s whose `name` is the error kind
//! (`ShapeError`, `InvalidArgumentError`, …); ts/src/errors.ts maps the name to a class.

use wasm_bindgen::JsValue;
use wasmformer_core::Error;

/// A JavaScript `Error` with `name = kind` and the given message.
pub fn js_error(kind: &str, message: &str) -> JsValue {
    let error = js_sys::Error::new(message);
    error.set_name(kind);
    error.into()
}

/// Converts a core error for the JS side.
pub fn to_js(error: Error) -> JsValue {
    js_error(error.kind(), &error.to_string())
}

//! The options object every entry point takes after its typed arrays (`{ batchSize, seqLen, … }`,
//! as candle-wasm's entry points take one options struct): read here field by field with
//! `js_sys::Reflect` and checked before the core runs. A missing or ill-typed field is an
//! `InvalidArgumentError` naming the entry point and the field (`"trainStepBatch: lr must be
//! a finite number, got \"0.1\""`); ranges that depend on the model are the core's to check.

use js_sys::Reflect;
use wasm_bindgen::prelude::*;

use crate::error::js_error;

/// An `InvalidArgumentError` with `message`.
pub fn invalid(message: String) -> JsValue {
    js_error("InvalidArgumentError", &message)
}

/// A value as an error message shows it: strings quoted, numbers and booleans as they are.
fn describe(value: &JsValue) -> String {
    if let Some(s) = value.as_string() {
        format!("{s:?}")
    } else if let Some(x) = value.as_f64() {
        x.to_string()
    } else if let Some(b) = value.as_bool() {
        b.to_string()
    } else if value.is_function() {
        "a function".into()
    } else if value.is_object() {
        "an object".into()
    } else {
        format!("{value:?}")
    }
}

/// Largest integer a JS number holds exactly (2^53 − 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// One entry point's options object.
pub struct Options<'a> {
    obj: &'a JsValue,
    call: &'static str,
}

impl<'a> Options<'a> {
    /// `obj` as the options of `call` (an entry point's JS name, used in error messages).
    pub fn new(obj: &'a JsValue, call: &'static str) -> Result<Self, JsValue> {
        if obj.is_object() {
            Ok(Self { obj, call })
        } else {
            Err(invalid(format!("{call}: options must be an object, got {}", describe(obj))))
        }
    }

    /// The field's value; `None` when it is absent, `undefined` or `null`.
    fn optional(&self, key: &str) -> Result<Option<JsValue>, JsValue> {
        let value = Reflect::get(self.obj, &JsValue::from_str(key))
            .map_err(|_| invalid(format!("{}: cannot read {key}", self.call)))?;
        Ok((!value.is_undefined() && !value.is_null()).then_some(value))
    }

    fn required(&self, key: &str) -> Result<JsValue, JsValue> {
        self.optional(key)?.ok_or_else(|| invalid(format!("{}: {key} is required", self.call)))
    }

    fn bad(&self, key: &str, what: &str, value: &JsValue) -> JsValue {
        invalid(format!("{}: {key} must be {what}, got {}", self.call, describe(value)))
    }

    fn finite(&self, key: &str, value: JsValue) -> Result<f64, JsValue> {
        match value.as_f64() {
            Some(x) if x.is_finite() => Ok(x),
            _ => Err(self.bad(key, "a finite number", &value)),
        }
    }

    /// A finite number.
    pub fn number(&self, key: &str) -> Result<f64, JsValue> {
        self.finite(key, self.required(key)?)
    }

    /// A finite number, or `None` when absent.
    pub fn optional_number(&self, key: &str) -> Result<Option<f64>, JsValue> {
        self.optional(key)?.map(|value| self.finite(key, value)).transpose()
    }

    /// An array of integers in `[0, 2^32 − 1]` (indices).
    pub fn counts(&self, key: &str) -> Result<Vec<usize>, JsValue> {
        let value = self.required(key)?;
        if !js_sys::Array::is_array(&value) {
            return Err(self.bad(key, "an array of integers", &value));
        }
        js_sys::Array::from(&value)
            .iter()
            .map(|item| self.integer(key, item, f64::from(u32::MAX)).map(|x| x as usize))
            .collect()
    }

    /// A finite number, rounded to `f32`.
    pub fn f32(&self, key: &str) -> Result<f32, JsValue> {
        Ok(self.number(key)? as f32)
    }

    /// A finite number, or `default` when absent.
    pub fn f32_or(&self, key: &str, default: f32) -> Result<f32, JsValue> {
        match self.optional(key)? {
            Some(value) => Ok(self.finite(key, value)? as f32),
            None => Ok(default),
        }
    }

    fn integer(&self, key: &str, value: JsValue, max: f64) -> Result<f64, JsValue> {
        match value.as_f64() {
            Some(x) if x.fract() == 0.0 && (0.0..=max).contains(&x) => Ok(x),
            _ => Err(self.bad(key, &format!("an integer in [0, {max}]"), &value)),
        }
    }

    /// An integer in `[0, 2^32 − 1]` (a size or an index).
    pub fn count(&self, key: &str) -> Result<usize, JsValue> {
        Ok(self.integer(key, self.required(key)?, f64::from(u32::MAX))? as usize)
    }

    /// An integer in `[0, 2^53 − 1]` (a count that may exceed 2^32).
    pub fn u64(&self, key: &str) -> Result<u64, JsValue> {
        Ok(self.integer(key, self.required(key)?, MAX_SAFE_INTEGER)? as u64)
    }

    /// A seed: any integer in `[−(2^53 − 1), 2^53 − 1]`; negative ones wrap (two's complement),
    /// so distinct seeds stay distinct streams.
    pub fn seed(&self, key: &str) -> Result<u64, JsValue> {
        let value = self.required(key)?;
        match value.as_f64() {
            Some(x) if x.fract() == 0.0 && x.abs() <= MAX_SAFE_INTEGER => Ok(x as i64 as u64),
            _ => Err(self.bad(key, "a safe integer", &value)),
        }
    }

    /// A boolean.
    pub fn flag(&self, key: &str) -> Result<bool, JsValue> {
        let value = self.required(key)?;
        value.as_bool().ok_or_else(|| self.bad(key, "a boolean", &value))
    }

    /// A boolean, or `default` when absent.
    pub fn flag_or(&self, key: &str, default: bool) -> Result<bool, JsValue> {
        match self.optional(key)? {
            Some(value) => value.as_bool().ok_or_else(|| self.bad(key, "a boolean", &value)),
            None => Ok(default),
        }
    }

    /// A string.
    pub fn text(&self, key: &str) -> Result<String, JsValue> {
        let value = self.required(key)?;
        value.as_string().ok_or_else(|| self.bad(key, "a string", &value))
    }

    /// One of `allowed` (strings), returned as its index in `allowed`.
    pub fn choice(&self, key: &str, allowed: &[&str]) -> Result<usize, JsValue> {
        let value = self.required(key)?;
        let found = value.as_string().and_then(|s| allowed.iter().position(|&a| a == s));
        found.ok_or_else(|| {
            let names: Vec<String> = allowed.iter().map(|a| format!("{a:?}")).collect();
            self.bad(key, &format!("one of {}", names.join(", ")), &value)
        })
    }

    /// An `i32`, or `None` when absent.
    pub fn optional_i32(&self, key: &str) -> Result<Option<i32>, JsValue> {
        match self.optional(key)? {
            Some(value) => match value.as_f64() {
                Some(x)
                    if x.fract() == 0.0
                        && (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&x) =>
                {
                    Ok(Some(x as i32))
                }
                _ => Err(self.bad(key, "a 32-bit integer", &value)),
            },
            None => Ok(None),
        }
    }
}

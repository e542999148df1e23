//! The one error type of the core. Every public function checks its inputs and returns one
//! of these instead of panicking, so a bad call from JavaScript never becomes a trap.

use std::fmt;

/// What went wrong, with enough detail for the caller to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A buffer's length does not match the dimensions it was given with.
    Shape {
        /// Which buffer, e.g. `"matmul: a"`.
        what: String,
        /// The length the dimensions call for.
        expected: usize,
        /// The length that was passed.
        got: usize,
    },
    /// An argument is out of its allowed range (a zero dimension, an overflow, …).
    InvalidArgument(String),
    /// A plan needs more memory than the target can address (wasm32: 4 GiB) or allocate.
    OutOfMemory(String),
}

impl Error {
    /// Shorthand for [`Error::Shape`].
    pub fn shape(what: impl Into<String>, expected: usize, got: usize) -> Self {
        Error::Shape { what: what.into(), expected, got }
    }

    /// The stable kind name TypeScript maps to an error class (`ShapeError`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Shape { .. } => "ShapeError",
            Error::InvalidArgument(_) => "InvalidArgumentError",
            Error::OutOfMemory(_) => "OutOfMemoryError",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Shape { what, expected, got } => {
                write!(f, "{what}: expected {expected} elements, got {got}")
            }
            Error::InvalidArgument(message) | Error::OutOfMemory(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for Error {}

/// The core's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// Checks that `buffer_len == expected`, naming the buffer in the error.
pub fn check_len(what: &str, expected: usize, buffer_len: usize) -> Result<()> {
    if expected == buffer_len {
        Ok(())
    } else {
        Err(Error::shape(what, expected, buffer_len))
    }
}

/// `a * b * …` with overflow reported as an error rather than a wrap or a panic.
pub fn checked_product(what: &str, factors: &[usize]) -> Result<usize> {
    factors.iter().try_fold(1usize, |acc, &f| {
        acc.checked_mul(f).ok_or_else(|| {
            Error::InvalidArgument(format!("{what}: dimensions {factors:?} overflow"))
        })
    })
}

//! Optimisers and gradient utilities that run over flat `f32` parameter and gradient buffers:
//! AdamW ([`adamw`]) and global-norm gradient clipping ([`clip`]).

pub mod adamw;
pub mod clip;

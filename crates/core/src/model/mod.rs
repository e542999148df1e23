//! The transformer as one configurable model (GPT and BERT are configurations of it):
//! `config` (options), `params` (named parameter layout and init), `plan` (activation
//! arena), `positional` (sinusoid, ALiBi, relative buckets), `kerple` (KERPLE's learned
//! log-distance bias), `heads` (head layout moves and
//! dropout masks), `transformer` (forward / backward), `step` ([`Model`]: training step,
//! evaluation, logits), `decode` (KV-cache incremental decoding), `probe` (attention maps).

pub mod batch;
pub mod config;
pub mod decode;
pub mod decode_int8;
pub mod ends;
pub mod heads;
pub mod kerple;
pub mod params;
pub mod plan;
pub mod positional;
pub mod probe;
mod shards;
pub mod step;
pub mod transformer;

pub use config::{Ffn, LmHead, ModelConfig, NormKind, NormPlacement, Positional};
pub use params::{Group, Spec};
pub use step::{MemoryPlan, Model, StepOptions, StepReport};

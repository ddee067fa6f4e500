//! Headless inference: candle models, chat templates, sampling and token-exact thinking control.
//!
//! A generation's state is a [`decode::Sequence`] value that drives a
//! [`thinking::ThinkingControl`] state machine, so budget forcing and the shifted window are
//! applied over the live KV cache without re-encoding anything. [`generate::generate`] runs
//! one sequence; [`batch`] runs many in shared forward passes (continuous batching, shared
//! prompts, sweep points forked off a shared thinking prefix).

pub mod batch;
pub mod decode;
pub mod device;
pub mod discover;
pub mod error;
pub mod generate;
pub mod lm;
pub mod model;
pub mod random;
pub mod sampling;
pub mod template;
pub mod thinking;
pub mod tokenizer;

pub use error::{EngineError, Result};
pub use generate::{generate, CancelToken, Event, Request};
pub use lm::{Feed, ForwardStats, KvCache, LanguageModel};
pub use model::{load, GenerationSpec, LoadOptions, LoadedModel};
pub use thinkscope_protocol::generation;

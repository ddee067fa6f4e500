//! Evaluation runs: a plan (dataset selection × sweep points × samples) becomes units,
//! decoded by a [`backend::Backend`] and committed one by one by the run writer, so a run
//! survives a crash and `resume` runs exactly the units that are missing.
//!
//! - [`sweep`]: sweep settings → plan points, and the families of points that share a
//!   trajectory (one pass per family: the leader decodes, the others fork off it);
//! - [`prompt`]: the question per task kind, option shuffles and unit seeds;
//! - [`backend`]: the interface a generation engine implements; [`local`]: candle;
//! - [`run`]: create, execute, resume.

pub mod backend;
pub mod local;
pub mod prompt;
pub mod run;
pub mod score;
pub mod sweep;

pub use backend::{Backend, BackendEvent, PromptSpec, UnitJob};
pub use local::LocalBackend;
pub use run::{create_run, execute, select_samples, Progress};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{0}")]
    Setting(String),
    #[error(
        "an unfinished run has the same plan and model: {name} ({id}, {done} of {total} units done). \
         Continue it with `thinkscope eval resume {id}`, or pass --new to start another"
    )]
    SamePlan { id: String, name: String, done: u64, total: u64 },
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    #[error("{0}")]
    Backend(String),
    #[error(transparent)]
    Store(#[from] thinkscope_store::StoreError),
    #[error(transparent)]
    Engine(#[from] thinkscope_engine::EngineError),
}

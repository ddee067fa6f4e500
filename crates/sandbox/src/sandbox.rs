//! The public façade: probe once, then run programs.

use std::path::{Path, PathBuf};

use crate::{parallel, Layer, Limits, Outcome};

/// Where to find things; the defaults suit a normal Linux host.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The interpreter. Default: the first of `/usr/bin/python3`, `/usr/local/bin/python3`,
    /// `/bin/python3` — the system one, which an unprivileged uid can read (a pyenv shim
    /// under root's home could not be).
    pub python: Option<PathBuf>,
    /// Where the per-run temp dirs go. Default: [`std::env::temp_dir`].
    pub temp_root: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("the sandbox supports Linux only, not {0}")]
    Unsupported(&'static str),
    #[error("no usable python3 interpreter: {0}")]
    NoInterpreter(String),
    #[error("the kernel refused the minimum confinement ({0}); refusing to run unconfined")]
    BelowMinimum(String),
    #[error("sandbox self-test failed with layers [{layers}]: {detail}")]
    SelfTest { layers: String, detail: String },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A probed sandbox; cheap to share between threads.
pub struct Sandbox {
    #[cfg(target_os = "linux")]
    runner: crate::linux::Runner,
    #[cfg(not(target_os = "linux"))]
    runner: Unconstructible,
}

#[cfg(not(target_os = "linux"))]
enum Unconstructible {}

impl Sandbox {
    /// Probes the kernel with the default [`Config`].
    pub fn probe() -> Result<Self, SandboxError> {
        Self::probe_with(Config::default())
    }

    /// Probes which layers work here (each by really starting the interpreter under it),
    /// then self-tests a run with all of them. Fails below [`Layer::MINIMUM`].
    pub fn probe_with(config: Config) -> Result<Self, SandboxError> {
        #[cfg(target_os = "linux")]
        {
            Ok(Sandbox {
                runner: crate::linux::Runner::probe(config)?,
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = config;
            Err(SandboxError::Unsupported(std::env::consts::OS))
        }
    }

    /// The layers in force for every run, outermost first.
    pub fn layers(&self) -> &[Layer] {
        self.runner.layers()
    }

    /// [`Self::layers`] as names, e.g. `["rlimits", "process-group", "netns", "seccomp"]`.
    pub fn layer_names(&self) -> Vec<String> {
        self.layers().iter().map(ToString::to_string).collect()
    }

    pub fn has(&self, layer: Layer) -> bool {
        self.layers().contains(&layer)
    }

    /// The Landlock ABI in force, if any.
    pub fn landlock_abi(&self) -> Option<u32> {
        self.layers().iter().find_map(|l| match l {
            Layer::Landlock(abi) => Some(*abi),
            _ => None,
        })
    }

    /// The interpreter every run uses.
    pub fn python(&self) -> &Path {
        self.runner.python()
    }

    /// Runs one Python program (its source text) to completion under `limits`.
    pub fn run(&self, program: &str, limits: &Limits) -> Outcome {
        self.runner.run(program, limits)
    }

    /// Runs every program on up to `parallelism` threads; outcomes in input order.
    pub fn run_many<S: AsRef<str> + Sync>(
        &self,
        programs: &[S],
        limits: &Limits,
        parallelism: usize,
    ) -> Vec<Outcome> {
        parallel::map_ordered(programs, parallelism, |p| self.run(p.as_ref(), limits))
    }
}

#[cfg(not(target_os = "linux"))]
impl Unconstructible {
    fn layers(&self) -> &[Layer] {
        match *self {}
    }
    fn python(&self) -> &Path {
        match *self {}
    }
    fn run(&self, _: &str, _: &Limits) -> Outcome {
        match *self {}
    }
}

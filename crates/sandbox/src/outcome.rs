//! What a run produced.

use std::time::Duration;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Exit status 0: every test passed.
    Pass,
    /// Non-zero exit (a failed assertion, any uncaught exception but `MemoryError`).
    Fail,
    /// The wall-clock timeout or the CPU-time limit was reached.
    Timeout,
    /// The program could not be run, or was stopped by a limit other than time: the memory
    /// limit (`MemoryError`), the file-size limit, or any other terminating signal.
    Error,
}

/// The result of one run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    /// Exit code when the program exited normally.
    pub exit_code: Option<i32>,
    /// Terminating signal when it was killed.
    pub signal: Option<i32>,
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// The last `output_tail_bytes` of stdout (lossy UTF-8).
    pub stdout_tail: String,
    /// The last `output_tail_bytes` of stderr (lossy UTF-8).
    pub stderr_tail: String,
    /// Total bytes written to stdout, kept or not.
    pub stdout_bytes: u64,
    /// Total bytes written to stderr, kept or not.
    pub stderr_bytes: u64,
    /// Why the status is `Timeout` or `Error`.
    pub detail: Option<String>,
}

impl Outcome {
    /// An outcome for a program that never ran.
    #[cfg(target_os = "linux")]
    pub(crate) fn error(detail: impl Into<String>) -> Self {
        Outcome {
            status: Status::Error,
            exit_code: None,
            signal: None,
            wall: Duration::ZERO,
            stdout_tail: String::new(),
            stderr_tail: String::new(),
            stdout_bytes: 0,
            stderr_bytes: 0,
            detail: Some(detail.into()),
        }
    }

    pub fn passed(&self) -> bool {
        self.status == Status::Pass
    }
}

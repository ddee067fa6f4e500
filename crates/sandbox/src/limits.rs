//! Per-run resource limits.

use std::time::Duration;

/// Limits applied to each run. `cpu_secs` and `memory_bytes` are counted by the kernel per
/// process, so a run's total is bounded by `processes` times them; the run's processes are
/// also made the OOM killer's first choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock timeout; the whole process group is then killed.
    pub wall: Duration,
    /// CPU seconds (`RLIMIT_CPU`); SIGXCPU at the limit, SIGKILL one second later.
    pub cpu_secs: u64,
    /// Address space (`RLIMIT_AS`) in bytes.
    pub memory_bytes: u64,
    /// Largest file the program may write (`RLIMIT_FSIZE`) in bytes.
    pub file_size_bytes: u64,
    /// Open file descriptors (`RLIMIT_NOFILE`).
    pub open_files: u64,
    /// Processes (`RLIMIT_NPROC`). The kernel counts these per uid, so the limit is per
    /// run only when each run has its own uid ([`crate::UidMode::Isolated`]).
    pub processes: u64,
    /// Bytes of stdout and of stderr kept (the tail); the rest is read and dropped.
    pub output_tail_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            wall: Duration::from_secs(20),
            cpu_secs: 10,
            memory_bytes: 1 << 30,
            file_size_bytes: 16 << 20,
            open_files: 256,
            processes: 16,
            output_tail_bytes: 16 << 10,
        }
    }
}

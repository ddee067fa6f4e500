//! The one I/O piece of scoring: untrusted code runs here, confined.
//!
//! [`Sandbox::probe`] finds out once which confinement layers this kernel offers, then
//! [`Sandbox::run`] / [`Sandbox::run_many`] execute Python programs (built with
//! [`humaneval_program`] / [`mbpp_program`]) with the system `python3`.
//!
//! Every run gets a fresh temp dir (also its `HOME` and `TMPDIR`), a cleared environment,
//! its own session and process group, rlimits and a wall-clock timeout that kills the whole
//! group. On top of that, where the kernel allows: a per-run unprivileged uid (when started
//! as root), a fresh network namespace, Landlock (no writes outside the temp dir, no reads
//! outside system paths) and a seccomp filter (no IPv4/IPv6/packet sockets, no signalling
//! the supervisor, no ptrace). [`Sandbox::layers`] reports what is in force; a layer that is
//! unavailable is left out, never faked. Below the [minimum](Layer::MINIMUM) the probe
//! refuses.
//!
//! Design: the supervisor forks and execs `python3` itself (no helper binary). Since the
//! supervisor may be multi-threaded, everything that allocates or opens files — the
//! Landlock ruleset, the seccomp BPF program, the temp dir, the environment — is prepared
//! before `fork`, and the child only applies it with async-signal-safe syscalls.
//!
//! Not covered: memory and CPU limits are per process (rlimits), not per run (no cgroups);
//! `/proc`, `/sys` and `/dev/shm` are unreadable under Landlock, so `multiprocessing` does
//! not work.
//!
//! Only Linux is supported; elsewhere [`Sandbox::probe`] returns
//! [`SandboxError::Unsupported`].

mod layers;
mod limits;
mod outcome;
mod parallel;
mod program;
mod sandbox;

#[cfg(target_os = "linux")]
mod linux;

pub use layers::{Layer, UidMode};
pub use limits::Limits;
pub use outcome::{Outcome, Status};
pub use program::{humaneval_program, mbpp_program};
pub use sandbox::{Config, Sandbox, SandboxError};

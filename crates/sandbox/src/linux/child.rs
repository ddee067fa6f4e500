//! What the forked child does between `fork` and `exec`.
//!
//! `pre_exec` runs after `fork` in a possibly multi-threaded supervisor, so only
//! async-signal-safe work is allowed: everything that allocates, opens files or builds
//! data (the Landlock ruleset, the seccomp program, paths, the environment) is prepared
//! by the supervisor before spawning, and [`ChildPlan::apply`] only issues syscalls.
//! Errors are `io::Error::last_os_error()` (no allocation); std reports them as the
//! spawn error.

use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;

use libc::sock_filter;

use super::{landlock, seccomp};
use crate::Limits;

/// Process limits in kernel units.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rlimits {
    cpu_secs: u64,
    address_space: u64,
    file_size: u64,
    open_files: u64,
    processes: u64,
}

impl From<&Limits> for Rlimits {
    fn from(l: &Limits) -> Self {
        Rlimits {
            cpu_secs: l.cpu_secs.max(1),
            address_space: l.memory_bytes,
            file_size: l.file_size_bytes,
            open_files: l.open_files,
            processes: l.processes,
        }
    }
}

/// How to leave the supervisor's network namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NetNs {
    /// As root: `unshare(CLONE_NEWNET)`.
    Plain,
    /// Without privilege: a user namespace grants the right to a network namespace.
    ViaUserNs,
}

/// Everything the child applies, in order, before `exec`.
#[derive(Clone, Default)]
pub(super) struct ChildPlan {
    pub rlimits: Option<Rlimits>,
    pub new_session: bool,
    /// Make the OOM killer pick the program's processes before anything else: rlimits
    /// bound memory per process, not per process tree.
    pub oom_first: bool,
    pub netns: Option<NetNs>,
    /// uid and gid to drop to (the supervisor is root).
    pub credentials: Option<(libc::uid_t, libc::gid_t)>,
    /// An open ruleset fd, kept open by the supervisor until the spawn returns.
    pub landlock: Option<RawFd>,
    pub seccomp: Option<Arc<[sock_filter]>>,
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

impl ChildPlan {
    /// Runs in the child after `fork`: async-signal-safe syscalls only.
    pub(super) fn apply(&self) -> io::Result<()> {
        // SAFETY: each call below is a plain syscall wrapper on valid arguments; none
        // allocates or takes locks.
        unsafe {
            if self.new_session {
                check(libc::setsid())?;
            }
            if self.oom_first {
                // Best effort (no /proc, no effect); before Landlock hides /proc.
                let fd = libc::open(
                    c"/proc/self/oom_score_adj".as_ptr(),
                    libc::O_WRONLY | libc::O_CLOEXEC,
                );
                if fd >= 0 {
                    libc::write(fd, b"1000".as_ptr().cast(), 4);
                    libc::close(fd);
                }
            }
            if let Some(r) = self.rlimits {
                set_rlimit(libc::RLIMIT_CORE, 0, 0)?;
                // SIGXCPU at the soft limit, SIGKILL a second later if it is ignored.
                set_rlimit(libc::RLIMIT_CPU, r.cpu_secs, r.cpu_secs + 1)?;
                set_rlimit(libc::RLIMIT_AS, r.address_space, r.address_space)?;
                set_rlimit(libc::RLIMIT_FSIZE, r.file_size, r.file_size)?;
                set_rlimit(libc::RLIMIT_NOFILE, r.open_files, r.open_files)?;
            }
            match self.netns {
                Some(NetNs::Plain) => check(libc::unshare(libc::CLONE_NEWNET))?,
                Some(NetNs::ViaUserNs) => {
                    check(libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET))?
                }
                None => {}
            }
            if let Some(r) = self.rlimits {
                // After any new user namespace: since Linux 5.14 the process count is then
                // kept per namespace, so the limit is per run even when the uid is shared
                // (set before, it would also cap the parent namespace's count of the uid).
                set_rlimit(libc::RLIMIT_NPROC, r.processes, r.processes)?;
            }
            if let Some((uid, gid)) = self.credentials {
                check(libc::setgroups(0, std::ptr::null()))?;
                check(libc::setresgid(gid, gid, gid))?;
                check(libc::setresuid(uid, uid, uid))?;
            }
            // If the supervising thread dies, so does the program. A credential change
            // clears this setting, hence after it.
            check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0))?;
            // Stray inherited descriptors must not reach the program (best effort: old
            // kernels lack close_range; std's own pipes are close-on-exec already).
            libc::syscall(
                libc::SYS_close_range,
                3u32,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            );
            if self.landlock.is_some() || self.seccomp.is_some() {
                check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
            }
        }
        if let Some(fd) = self.landlock {
            landlock::restrict_self(fd)?;
        }
        if let Some(filter) = &self.seccomp {
            seccomp::install(filter)?;
        }
        Ok(())
    }
}

/// SAFETY: async-signal-safe syscall wrapper.
unsafe fn set_rlimit(resource: RlimitResource, soft: u64, hard: u64) -> io::Result<()> {
    let limit = libc::rlimit {
        rlim_cur: soft as libc::rlim_t,
        rlim_max: hard as libc::rlim_t,
    };
    check(libc::setrlimit(resource, &limit))
}

#[cfg(all(target_env = "gnu", not(target_os = "android")))]
type RlimitResource = libc::__rlimit_resource_t;
#[cfg(not(all(target_env = "gnu", not(target_os = "android"))))]
type RlimitResource = libc::c_int;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    /// Runs `sh -c script` under `plan` and returns its stdout.
    fn run_under(plan: ChildPlan, script: &str) -> String {
        let mut command = Command::new("/bin/sh");
        command.args(["-c", script]);
        // SAFETY: `apply` makes only async-signal-safe syscalls.
        unsafe { command.pre_exec(move || plan.apply()) };
        let output = command.output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    #[test]
    fn session_rlimits_and_oom_score_are_applied() {
        let limits = Limits {
            cpu_secs: 7,
            open_files: 99,
            ..Limits::default()
        };
        let plan = ChildPlan {
            rlimits: Some(Rlimits::from(&limits)),
            new_session: true,
            oom_first: true,
            ..ChildPlan::default()
        };
        let out = run_under(
            plan,
            "echo $(cat /proc/self/oom_score_adj) $(ulimit -t) $(ulimit -n) \
             $(cut -d' ' -f6 /proc/$$/stat) $$",
        );
        let fields: Vec<&str> = out.split_whitespace().collect();
        assert_eq!(&fields[..3], ["1000", "7", "99"]);
        assert_eq!(fields[3], fields[4], "the shell leads its own session");
    }
}

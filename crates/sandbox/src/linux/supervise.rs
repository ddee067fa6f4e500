//! Watching a spawned run: drain its output into capped tails, enforce the wall clock,
//! kill its process group, reap it, and classify how it ended.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use super::tail::Tail;
use crate::{Limits, Outcome, Status};

/// How long output is still drained after the program ended (from processes that were
/// killed with it, or escaped it).
const DRAIN_GRACE: Duration = Duration::from_millis(300);
/// Poll interval when no pidfd can tell us the program exited.
const FALLBACK_TICK: Duration = Duration::from_millis(5);
/// Bytes read from one pipe per wake-up, so one chatty stream cannot starve the clock.
const READ_BUDGET: usize = 1 << 20;

/// One output pipe being drained.
struct Stream {
    file: Option<File>,
    tail: Tail,
}

impl Stream {
    fn new(fd: Option<OwnedFd>, cap: usize) -> io::Result<Self> {
        if let Some(fd) = &fd {
            set_nonblocking(fd)?;
        }
        Ok(Stream {
            file: fd.map(File::from),
            tail: Tail::new(cap),
        })
    }

    /// Reads what is available; closes the stream at EOF or on error.
    fn drain(&mut self) {
        let Some(file) = &mut self.file else { return };
        let mut buf = [0u8; 64 << 10];
        let mut budget = READ_BUDGET;
        while budget > 0 {
            match file.read(&mut buf) {
                Ok(n) if n > 0 => {
                    self.tail.push(&buf[..n]);
                    budget = budget.saturating_sub(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                // EOF, or a broken pipe: nothing more will come.
                _ => {
                    self.file = None;
                    return;
                }
            }
        }
    }
}

fn set_nonblocking(fd: &OwnedFd) -> io::Result<()> {
    // SAFETY: fcntl on an fd we own.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A pidfd becomes readable when the process exits; `None` on kernels before 5.3.
fn pidfd_open(pid: u32) -> Option<OwnedFd> {
    // SAFETY: plain syscall; a non-negative result is a fresh fd we then own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0u32) };
    (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// Whether the child has exited, without reaping it: the process group id stays ours
/// until we reap, so the later `killpg` cannot hit a recycled group.
fn has_exited(pid: u32) -> bool {
    // SAFETY: waitid on our own child with WNOWAIT; info is zeroed as the manual requires.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let flags = libc::WEXITED | libc::WNOHANG | libc::WNOWAIT;
        libc::waitid(libc::P_PID, pid, &mut info, flags) == 0 && info.si_pid() != 0
    }
}

/// Waits up to `timeout` for output or exit; returns on either.
fn wait_for_events(streams: &[&Stream], pidfd: Option<&OwnedFd>, timeout: Duration) {
    let mut fds: Vec<libc::pollfd> = streams
        .iter()
        .filter_map(|s| s.file.as_ref())
        .map(|f| f.as_raw_fd())
        .chain(pidfd.map(|p| p.as_raw_fd()))
        .map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128) as libc::c_int;
    // SAFETY: fds is a valid array of the given length. EINTR simply returns early.
    unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
}

/// Supervises `child` (a session leader, so its pid is its process group id) until it
/// exits or `limits.wall` passes, then kills the group, reaps, runs `cleanup` (the uid
/// sweep; its error, if any, goes to `detail`) and drains what output remains.
pub(super) fn supervise(
    mut child: Child,
    start: Instant,
    limits: &Limits,
    cleanup: impl FnOnce() -> Option<String>,
) -> Outcome {
    let pid = child.id();
    let cap = limits.output_tail_bytes;
    let streams = Stream::new(child.stdout.take().map(OwnedFd::from), cap).and_then(|out| {
        Ok((
            out,
            Stream::new(child.stderr.take().map(OwnedFd::from), cap)?,
        ))
    });
    let (mut out, mut err) = match streams {
        Ok(streams) => streams,
        Err(e) => {
            let _ = kill_group_and_reap(&mut child);
            let _ = cleanup();
            return Outcome::error(format!("output pipes: {e}"));
        }
    };
    let pidfd = pidfd_open(pid);
    let deadline = start + limits.wall;

    let timed_out = loop {
        if has_exited(pid) {
            break false;
        }
        let now = Instant::now();
        if now >= deadline {
            break true;
        }
        let tick = if pidfd.is_some() {
            deadline - now
        } else {
            FALLBACK_TICK.min(deadline - now)
        };
        wait_for_events(&[&out, &err], pidfd.as_ref(), tick);
        out.drain();
        err.drain();
    };
    let wall = start.elapsed();
    let status = kill_group_and_reap(&mut child);
    let cleanup_error = cleanup();

    let grace = Instant::now() + DRAIN_GRACE;
    while (out.file.is_some() || err.file.is_some()) && Instant::now() < grace {
        wait_for_events(&[&out, &err], None, grace - Instant::now());
        out.drain();
        err.drain();
    }

    let mut outcome = Outcome {
        status: Status::Error,
        exit_code: None,
        signal: None,
        wall,
        stdout_bytes: out.tail.total(),
        stderr_bytes: err.tail.total(),
        stdout_tail: out.tail.into_string(),
        stderr_tail: err.tail.into_string(),
        detail: None,
    };
    match status {
        Ok(status) => classify(&mut outcome, status, timed_out, limits),
        Err(e) => outcome.detail = Some(format!("wait failed: {e}")),
    }
    if let Some(e) = cleanup_error {
        let detail = outcome.detail.take().map_or(String::new(), |d| d + "; ");
        outcome.detail = Some(format!("{detail}cleanup: {e}"));
    }
    outcome
}

/// Kills the whole process group (the child is its leader and not yet reaped, so the
/// group id is still ours), then reaps the child.
fn kill_group_and_reap(child: &mut Child) -> io::Result<ExitStatus> {
    // SAFETY: signalling a process group we created.
    unsafe { libc::killpg(child.id() as libc::pid_t, libc::SIGKILL) };
    child.wait()
}

fn classify(outcome: &mut Outcome, status: ExitStatus, timed_out: bool, limits: &Limits) {
    outcome.exit_code = status.code();
    outcome.signal = status.signal();
    let (status, detail) = if timed_out {
        (
            Status::Timeout,
            Some(format!("wall-clock limit of {:?}", limits.wall)),
        )
    } else {
        match (status.code(), status.signal()) {
            (Some(0), _) => (Status::Pass, None),
            (Some(_), _) if ends_with_memory_error(&outcome.stderr_tail) => {
                (Status::Error, Some("memory limit (MemoryError)".to_owned()))
            }
            (Some(_), _) => (Status::Fail, None),
            (None, Some(libc::SIGXCPU)) => (
                Status::Timeout,
                Some(format!("CPU limit of {}s", limits.cpu_secs)),
            ),
            (None, Some(libc::SIGXFSZ)) => (Status::Error, Some("file size limit".to_owned())),
            (None, Some(sig)) => (Status::Error, Some(format!("killed by signal {sig}"))),
            (None, None) => (Status::Error, Some("ended without status".to_owned())),
        }
    };
    outcome.status = status;
    outcome.detail = detail;
}

/// Python reports an exhausted address space as an uncaught `MemoryError`, the last line
/// of its traceback.
fn ends_with_memory_error(stderr: &str) -> bool {
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| l.starts_with("MemoryError"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_error_is_recognised_only_as_the_final_line() {
        assert!(ends_with_memory_error(
            "Traceback ...\n  x = ...\nMemoryError\n\n"
        ));
        assert!(ends_with_memory_error("MemoryError: out of memory"));
        assert!(!ends_with_memory_error("MemoryError\nAssertionError\n"));
        assert!(!ends_with_memory_error(""));
    }
}

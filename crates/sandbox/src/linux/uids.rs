//! Per-run uids for a root supervisor, and the sweep that kills whatever a run left behind.

use std::io;
use std::sync::Mutex;

/// First uid of the per-run range: far above login (1000+), systemd dynamic
/// (61184–65519) and nobody (65534) uids, and below 2^31 so no code sees it negative.
pub(super) const POOL_BASE: u32 = 0x6A00_0000;

/// The shared fallback identity.
pub(super) const NOBODY: u32 = 65534;

/// Hands out one uid per concurrent run, reusing freed ones.
#[derive(Default)]
pub(super) struct UidPool {
    in_use: Mutex<Vec<bool>>,
}

/// A uid held for the duration of one run.
pub(super) struct Lease<'a> {
    pool: &'a UidPool,
    slot: usize,
}

impl UidPool {
    pub(super) fn lease(&self) -> Lease<'_> {
        let mut in_use = self.in_use.lock().unwrap_or_else(|e| e.into_inner());
        let slot = match in_use.iter().position(|used| !used) {
            Some(slot) => slot,
            None => {
                in_use.push(false);
                in_use.len() - 1
            }
        };
        in_use[slot] = true;
        Lease { pool: self, slot }
    }
}

impl Lease<'_> {
    pub(super) fn uid(&self) -> u32 {
        POOL_BASE + self.slot as u32
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        self.pool.in_use.lock().unwrap_or_else(|e| e.into_inner())[self.slot] = false;
    }
}

/// Kills every process owned by `uid` — including any that escaped the process group
/// with `setsid` — by forking a helper that becomes `uid` and sends `kill(-1, SIGKILL)`.
/// Only sound when `uid` belongs to this one run.
///
/// One pass suffices: `kill(-1)` walks the process list under the lock `fork` needs, and a
/// fork by a task with a pending SIGKILL fails; the second pass is belt and braces.
/// (The return value of `kill(-1)` cannot tell "nothing left": other users' processes
/// count as found.)
pub(super) fn sweep(uid: u32) -> io::Result<()> {
    // SAFETY: the child only makes async-signal-safe syscalls and ends with `_exit`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        unsafe {
            if libc::setresuid(uid, uid, uid) != 0 {
                libc::_exit(1);
            }
            libc::kill(-1, libc::SIGKILL);
            let pause = libc::timespec {
                tv_sec: 0,
                tv_nsec: 1_000_000,
            };
            libc::nanosleep(&pause, std::ptr::null_mut());
            libc::kill(-1, libc::SIGKILL);
            libc::_exit(0);
        }
    }
    let mut status = 0;
    // SAFETY: reaping our own child.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    match libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)) {
        Some(0) => Ok(()),
        _ => Err(io::Error::other(format!(
            "uid sweep of {uid} did not finish (status {status:#x})"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_leases_get_distinct_uids_and_freed_ones_are_reused() {
        let pool = UidPool::default();
        let a = pool.lease();
        let b = pool.lease();
        assert_eq!((a.uid(), b.uid()), (POOL_BASE, POOL_BASE + 1));
        drop(a);
        assert_eq!(pool.lease().uid(), POOL_BASE);
    }
}

//! Landlock through raw syscalls: the ruleset is built in the supervisor (it opens files
//! and allocates) and only `landlock_restrict_self` runs in the forked child.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const CREATE_RULESET_VERSION: libc::c_uint = 1;
const RULE_PATH_BENEATH: libc::c_int = 1;

const EXECUTE: u64 = 1 << 0;
const WRITE_FILE: u64 = 1 << 1;
const READ_FILE: u64 = 1 << 2;
const READ_DIR: u64 = 1 << 3;
/// REMOVE_DIR .. MAKE_SYM: every ABI-1 right that creates or removes entries.
const MAKE_AND_REMOVE: u64 = 0b1_1111_1111 << 4;
const REFER: u64 = 1 << 13;
const TRUNCATE: u64 = 1 << 14;
const IOCTL_DEV: u64 = 1 << 15;

const NET_BIND_TCP: u64 = 1 << 0;
const NET_CONNECT_TCP: u64 = 1 << 1;

const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
const SCOPE_SIGNAL: u64 = 1 << 1;

/// Longer than older kernels know; they accept it because the extra fields are zero.
#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// The Landlock ABI version the kernel offers, if any.
pub(super) fn abi_version() -> Option<u32> {
    // SAFETY: the documented version query: null attr, size 0.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0usize,
            CREATE_RULESET_VERSION,
        )
    };
    u32::try_from(v).ok().filter(|&v| v >= 1)
}

/// Filesystem rights this ABI can restrict.
fn handled_fs(abi: u32) -> u64 {
    let mut fs = EXECUTE | WRITE_FILE | READ_FILE | READ_DIR | MAKE_AND_REMOVE;
    if abi >= 2 {
        fs |= REFER;
    }
    if abi >= 3 {
        fs |= TRUNCATE;
    }
    if abi >= 5 {
        fs |= IOCTL_DEV;
    }
    fs
}

/// A ruleset: everything in `rw_dir`; read and execute beneath `ro_paths`; read/write on
/// `dev_files` (e.g. /dev/null); nothing else. From ABI 4 all TCP bind/connect is denied,
/// from ABI 6 signals and abstract unix sockets cannot leave the sandbox.
/// Missing paths are skipped. The returned fd is close-on-exec.
pub(super) fn build_ruleset(
    abi: u32,
    rw_dir: &Path,
    ro_paths: &[&Path],
    dev_files: &[&Path],
) -> io::Result<OwnedFd> {
    let fs = handled_fs(abi);
    let attr = RulesetAttr {
        handled_access_fs: fs,
        handled_access_net: if abi >= 4 {
            NET_BIND_TCP | NET_CONNECT_TCP
        } else {
            0
        },
        scoped: if abi >= 6 {
            SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        } else {
            0
        },
    };
    // SAFETY: attr is a valid, fully initialised struct of the size passed.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            &attr as *const RulesetAttr,
            std::mem::size_of::<RulesetAttr>(),
            0u32,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the syscall returned a fresh fd that nothing else owns.
    let ruleset = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    add_rule(&ruleset, rw_dir, fs)?;
    let read = EXECUTE | READ_FILE | READ_DIR;
    for path in ro_paths.iter().filter(|p| p.exists()) {
        add_rule(&ruleset, path, read)?;
    }
    let file_rights = (READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV) & fs;
    for path in dev_files.iter().filter(|p| p.exists()) {
        add_rule(&ruleset, path, file_rights)?;
    }
    Ok(ruleset)
}

fn add_rule(ruleset: &OwnedFd, path: &Path, allowed_access: u64) -> io::Result<()> {
    let c_path = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: a valid NUL-terminated path; O_PATH opens nothing but a reference.
    let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fresh fd owned here, closed on drop.
    let parent = unsafe { OwnedFd::from_raw_fd(fd) };
    let rule = PathBeneathAttr {
        allowed_access,
        parent_fd: parent.as_raw_fd(),
    };
    // SAFETY: both fds are open; the rule struct is valid for the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset.as_raw_fd(),
            RULE_PATH_BENEATH,
            &rule as *const PathBeneathAttr,
            0u32,
        )
    };
    if rc < 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(
            err.kind(),
            format!("landlock rule for {}: {err}", path.display()),
        ));
    }
    Ok(())
}

/// Confines the calling process. Async-signal-safe: one syscall. The caller must have set
/// `no_new_privs` first.
pub(super) fn restrict_self(ruleset: RawFd) -> io::Result<()> {
    // SAFETY: a plain syscall on an fd the caller keeps open.
    if unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset, 0u32) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handled_rights_grow_with_the_abi() {
        assert_eq!(handled_fs(1), (1 << 13) - 1);
        assert_eq!(handled_fs(2), (1 << 14) - 1);
        assert_eq!(handled_fs(3), (1 << 15) - 1);
        assert_eq!(handled_fs(4), handled_fs(3));
        assert_eq!(handled_fs(5), (1 << 16) - 1);
    }

    #[test]
    fn builds_a_ruleset_when_the_kernel_has_landlock() {
        let Some(abi) = abi_version() else {
            eprintln!("landlock unavailable: nothing to build");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let ruleset = build_ruleset(
            abi,
            dir.path(),
            &[Path::new("/usr"), Path::new("/does/not/exist")],
            &[Path::new("/dev/null")],
        )
        .unwrap();
        assert!(ruleset.as_raw_fd() > 2);
    }
}

//! A hand-written seccomp BPF filter: small enough to read in full, built in the
//! supervisor, installed in the child with one `prctl`.
//!
//! It denies (with an errno, so Python raises instead of dying): IPv4/IPv6/packet
//! sockets; signals to the supervisor, its process group or everyone (`kill(-1)`);
//! `pidfd_open` of the supervisor; ptrace, cross-process memory access and io_uring
//! (which could open sockets without the `socket` syscall). Foreign syscall ABIs
//! (i386/x32 on x86_64) kill the process, since the numbers checked would not apply.
//!
//! Only x86_64 and aarch64 have a filter; elsewhere [`filter`] is `None` and the helpers
//! go unused.
#![cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code)
)]

use std::io;

use libc::sock_filter;

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xC000_003E;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xC000_00B7;

// Classic BPF opcodes: BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_JMP|BPF_JGE|BPF_K,
// BPF_RET|BPF_K.
const LD_W_ABS: u16 = 0x20;
const JEQ_K: u16 = 0x15;
const JGE_K: u16 = 0x35;
const RET_K: u16 = 0x06;

const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
/// Low 32 bits of `args[0]` (little-endian): pids and address families are 32-bit ints.
const OFFSET_ARG0_LO: u32 = 16;

const RET_ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const RET_KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;

fn errno(e: i32) -> u32 {
    libc::SECCOMP_RET_ERRNO | (e as u32 & libc::SECCOMP_RET_DATA)
}

fn stmt(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter { code, jt, jf, k }
}

/// Where the rules come from: the supervisor to protect.
pub(super) struct Supervisor {
    pub pid: u32,
    pub pgid: u32,
}

/// The filter, or `None` on an architecture it has no syscall table for.
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(super) fn filter(_: &Supervisor) -> Option<Vec<sock_filter>> {
    None
}

/// A syscall whose first argument must not be one of `denied` (`None`: always denied).
struct Rule {
    nr: libc::c_long,
    denied: Option<Vec<u32>>,
    errno: i32,
}

/// The filter, or `None` on an architecture it has no syscall table for.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(super) fn filter(sup: &Supervisor) -> Option<Vec<sock_filter>> {
    let me = sup.pid;
    let my_group = (sup.pgid as i32).wrapping_neg() as u32;
    let everyone = -1i32 as u32;
    let arg = |values: &[u32]| Some(values.to_vec());
    let rules = [
        Rule {
            nr: libc::SYS_socket,
            denied: arg(&[
                libc::AF_INET as u32,
                libc::AF_INET6 as u32,
                libc::AF_PACKET as u32,
            ]),
            errno: libc::EACCES,
        },
        Rule {
            nr: libc::SYS_kill,
            denied: arg(&[me, my_group, everyone]),
            errno: libc::EPERM,
        },
        Rule {
            nr: libc::SYS_tkill,
            denied: arg(&[me]),
            errno: libc::EPERM,
        },
        Rule {
            nr: libc::SYS_tgkill,
            denied: arg(&[me]),
            errno: libc::EPERM,
        },
        Rule {
            nr: libc::SYS_rt_sigqueueinfo,
            denied: arg(&[me]),
            errno: libc::EPERM,
        },
        Rule {
            nr: libc::SYS_rt_tgsigqueueinfo,
            denied: arg(&[me]),
            errno: libc::EPERM,
        },
        Rule {
            nr: libc::SYS_pidfd_open,
            denied: arg(&[me]),
            errno: libc::EPERM,
        },
        Rule {
            nr: libc::SYS_ptrace,
            denied: None,
            errno: libc::EPERM,
        },
        Rule {
            nr: libc::SYS_process_vm_readv,
            denied: None,
            errno: libc::EPERM,
        },
        Rule {
            nr: libc::SYS_process_vm_writev,
            denied: None,
            errno: libc::EPERM,
        },
        Rule {
            nr: libc::SYS_io_uring_setup,
            denied: None,
            errno: libc::ENOSYS,
        },
    ];

    let mut prog = vec![
        stmt(LD_W_ABS, OFFSET_ARCH),
        jump(JEQ_K, AUDIT_ARCH, 1, 0),
        stmt(RET_K, RET_KILL),
        stmt(LD_W_ABS, OFFSET_NR),
    ];
    if cfg!(target_arch = "x86_64") {
        // x32 syscalls share the arch value but set this bit.
        prog.push(jump(JGE_K, 0x4000_0000, 0, 1));
        prog.push(stmt(RET_K, RET_KILL));
    }
    for rule in &rules {
        match &rule.denied {
            None => {
                prog.push(jump(JEQ_K, rule.nr as u32, 0, 1));
                prog.push(stmt(RET_K, errno(rule.errno)));
            }
            Some(values) => {
                // Not this syscall: skip the block. This syscall: decide and return.
                let block = 1 + 2 * values.len() + 1;
                prog.push(jump(JEQ_K, rule.nr as u32, 0, block as u8));
                prog.push(stmt(LD_W_ABS, OFFSET_ARG0_LO));
                for &v in values {
                    prog.push(jump(JEQ_K, v, 0, 1));
                    prog.push(stmt(RET_K, errno(rule.errno)));
                }
                prog.push(stmt(RET_K, RET_ALLOW));
            }
        }
    }
    prog.push(stmt(RET_K, RET_ALLOW));
    Some(prog)
}

/// Installs the filter on the calling thread. Async-signal-safe: one `prctl`. The caller
/// must have set `no_new_privs` first.
pub(super) fn install(filter: &[sock_filter]) -> io::Result<()> {
    let prog = libc::sock_fprog {
        len: filter.len() as libc::c_ushort,
        filter: filter.as_ptr() as *mut sock_filter,
    };
    // SAFETY: prog points to `filter`, which outlives the call; the kernel copies it.
    let rc = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use super::*;

    /// A tiny interpreter for the instructions the filter uses, to check its decisions
    /// without installing it.
    fn decide(prog: &[sock_filter], nr: i64, arg0: i64) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&(nr as u32).to_le_bytes());
        data[4..8].copy_from_slice(&AUDIT_ARCH.to_le_bytes());
        data[16..24].copy_from_slice(&arg0.to_le_bytes());
        let (mut acc, mut pc) = (0u32, 0usize);
        loop {
            let ins = prog[pc];
            pc += 1;
            match ins.code {
                LD_W_ABS => {
                    let at = ins.k as usize;
                    acc = u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
                }
                JEQ_K => pc += if acc == ins.k { ins.jt } else { ins.jf } as usize,
                JGE_K => pc += if acc >= ins.k { ins.jt } else { ins.jf } as usize,
                RET_K => return ins.k,
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    #[test]
    fn denies_inet_sockets_and_signals_to_the_supervisor_only() {
        let sup = Supervisor {
            pid: 4242,
            pgid: 4200,
        };
        let prog = filter(&sup).unwrap();
        let socket = libc::SYS_socket;
        assert_eq!(
            decide(&prog, socket, libc::AF_INET.into()),
            errno(libc::EACCES)
        );
        assert_eq!(
            decide(&prog, socket, libc::AF_INET6.into()),
            errno(libc::EACCES)
        );
        assert_eq!(decide(&prog, socket, libc::AF_UNIX.into()), RET_ALLOW);
        assert_eq!(decide(&prog, libc::SYS_kill, 4242), errno(libc::EPERM));
        assert_eq!(decide(&prog, libc::SYS_kill, -4200), errno(libc::EPERM));
        assert_eq!(decide(&prog, libc::SYS_kill, -1), errno(libc::EPERM));
        assert_eq!(decide(&prog, libc::SYS_kill, 0), RET_ALLOW);
        assert_eq!(decide(&prog, libc::SYS_kill, 999), RET_ALLOW);
        assert_eq!(decide(&prog, libc::SYS_tgkill, 4242), errno(libc::EPERM));
        assert_eq!(decide(&prog, libc::SYS_ptrace, 0), errno(libc::EPERM));
        assert_eq!(decide(&prog, libc::SYS_read, 0), RET_ALLOW);
        assert_eq!(decide(&prog, libc::SYS_execve, 0), RET_ALLOW);
    }
}

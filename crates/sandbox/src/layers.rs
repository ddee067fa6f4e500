//! The confinement layers a [`crate::Sandbox`] can put around a run.

use std::fmt;

/// Which unprivileged identity runs the program (only possible when started as root).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UidMode {
    /// A uid of its own per concurrent run, so runs cannot signal each other, share a
    /// process count, or leave processes behind (they are swept by uid afterwards).
    Isolated,
    /// The shared `nobody` user (65534): used when per-run uids are refused.
    Nobody,
}

/// One layer of confinement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// CPU time, address space, file size, open files and process count limits.
    Rlimits,
    /// Own session and process group; the whole group is killed at the end or timeout.
    ProcessGroup,
    /// Runs under another, unprivileged uid.
    Uid(UidMode),
    /// A fresh network namespace: only an unconfigured loopback, no route out.
    NetNs,
    /// Landlock with the given ABI version: writes only in the temp dir, reads only of
    /// system paths (and, from ABI 4, no TCP bind/connect; from ABI 6, no signals or
    /// abstract unix sockets outside the sandbox).
    Landlock(u32),
    /// A seccomp filter: no IPv4/IPv6/packet sockets, no signals to the supervisor, no
    /// ptrace or io_uring.
    Seccomp,
}

impl Layer {
    /// The documented minimum; [`crate::Sandbox::probe`] refuses below it. The timeout,
    /// the temp dir and the cleared environment are always applied and not listed.
    pub const MINIMUM: [Layer; 2] = [Layer::Rlimits, Layer::ProcessGroup];
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Rlimits => f.write_str("rlimits"),
            Layer::ProcessGroup => f.write_str("process-group"),
            Layer::Uid(UidMode::Isolated) => f.write_str("uid:isolated"),
            Layer::Uid(UidMode::Nobody) => f.write_str("uid:nobody"),
            Layer::NetNs => f.write_str("netns"),
            Layer::Landlock(abi) => write!(f, "landlock:v{abi}"),
            Layer::Seccomp => f.write_str("seccomp"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable() {
        let names: Vec<String> = [
            Layer::Rlimits,
            Layer::ProcessGroup,
            Layer::Uid(UidMode::Nobody),
            Layer::NetNs,
            Layer::Landlock(3),
            Layer::Seccomp,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            names,
            [
                "rlimits",
                "process-group",
                "uid:nobody",
                "netns",
                "landlock:v3",
                "seccomp"
            ]
        );
    }
}

//! The Linux runner: probing the layers and running one program under all of them.
//!
//! Design: the supervisor forks and execs the interpreter directly (no helper binary).
//! Everything that allocates or touches files happens before `fork`; the child only
//! applies prepared state with raw syscalls (see [`child`]).

mod child;
mod landlock;
mod seccomp;
mod supervise;
mod tail;
mod uids;

use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;
use std::{fs, io};

use child::{ChildPlan, NetNs, Rlimits};
use libc::sock_filter;
use uids::UidPool;

use crate::{Config, Layer, Limits, Outcome, SandboxError, Status, UidMode};

const PYTHON_CANDIDATES: [&str; 3] = ["/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3"];
/// Readable (and executable) under Landlock so the interpreter and its libraries load.
const SYSTEM_READ_PATHS: [&str; 8] = [
    "/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc",
];
/// Device files programs commonly open.
const DEV_FILES: [&str; 4] = ["/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"];
const SEARCH_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
const SCRIPT: &str = "main.py";

const SELF_TEST: &str = "\
with open('probe.txt', 'w') as f:
    f.write('ok')
assert open('probe.txt').read() == 'ok'
print('sandbox-ok')
";

enum Identity {
    Isolated(UidPool),
    Nobody,
}

pub(crate) struct Runner {
    python: PathBuf,
    temp_root: PathBuf,
    layers: Vec<Layer>,
    identity: Option<Identity>,
    netns: Option<NetNs>,
    landlock_abi: Option<u32>,
    read_paths: Vec<PathBuf>,
    seccomp: Option<Arc<[sock_filter]>>,
}

impl Runner {
    pub(crate) fn probe(config: Config) -> Result<Self, SandboxError> {
        let python = find_python(config.python)?;
        let temp_root = config.temp_root.unwrap_or_else(std::env::temp_dir);
        let base = ChildPlan {
            rlimits: Some(Rlimits::from(&Limits::default())),
            new_session: true,
            ..ChildPlan::default()
        };
        try_plan(&python, &base).map_err(|e| SandboxError::BelowMinimum(e.to_string()))?;
        let works = |layer: ChildPlan| try_plan(&python, &layer).is_ok();

        // SAFETY: trivial getter.
        let root = unsafe { libc::geteuid() } == 0;
        let identity = if root {
            probe_identity(&base, works)
        } else {
            None
        };
        let netns_kind = if root { NetNs::Plain } else { NetNs::ViaUserNs };
        let netns = works(ChildPlan {
            netns: Some(netns_kind),
            ..base.clone()
        })
        .then_some(netns_kind);
        let read_paths = read_paths(&python);
        let landlock_abi = landlock::abi_version()
            .filter(|&abi| landlock_works(abi, &temp_root, &read_paths, &base, works));
        let seccomp = seccomp_filter().filter(|filter| {
            works(ChildPlan {
                seccomp: Some(filter.clone()),
                ..base.clone()
            })
        });

        let mut layers = Layer::MINIMUM.to_vec();
        layers.extend(identity.as_ref().map(|i| match i {
            Identity::Isolated(_) => Layer::Uid(UidMode::Isolated),
            Identity::Nobody => Layer::Uid(UidMode::Nobody),
        }));
        layers.extend(netns.map(|_| Layer::NetNs));
        layers.extend(landlock_abi.map(Layer::Landlock));
        layers.extend(seccomp.as_ref().map(|_| Layer::Seccomp));

        let runner = Runner {
            python,
            temp_root,
            layers,
            identity,
            netns,
            landlock_abi,
            read_paths,
            seccomp,
        };
        runner.self_test()?;
        Ok(runner)
    }

    /// One real run with every layer, so a broken combination fails the probe, not scoring.
    fn self_test(&self) -> Result<(), SandboxError> {
        let outcome = self.run(SELF_TEST, &Limits::default());
        if outcome.status == Status::Pass && outcome.stdout_tail.contains("sandbox-ok") {
            return Ok(());
        }
        let names: Vec<String> = self.layers.iter().map(ToString::to_string).collect();
        Err(SandboxError::SelfTest {
            layers: names.join(", "),
            detail: format!(
                "{:?} ({}): {}",
                outcome.status,
                outcome.detail.unwrap_or_default(),
                outcome.stderr_tail.trim()
            ),
        })
    }

    pub(crate) fn layers(&self) -> &[Layer] {
        &self.layers
    }

    pub(crate) fn python(&self) -> &Path {
        &self.python
    }

    pub(crate) fn run(&self, program: &str, limits: &Limits) -> Outcome {
        let lease = match &self.identity {
            Some(Identity::Isolated(pool)) => Some(pool.lease()),
            _ => None,
        };
        let uid = match (&self.identity, &lease) {
            (_, Some(lease)) => Some(lease.uid()),
            (Some(Identity::Nobody), _) => Some(uids::NOBODY),
            _ => None,
        };
        let dir = match self.prepare_dir(program, uid) {
            Ok(dir) => dir,
            Err(e) => return Outcome::error(format!("preparing the temp dir: {e}")),
        };
        let ruleset = self
            .landlock_abi
            .map(|abi| build_ruleset(abi, dir.path(), &self.read_paths))
            .transpose();
        let ruleset = match ruleset {
            Ok(ruleset) => ruleset,
            Err(e) => return Outcome::error(format!("building the landlock ruleset: {e}")),
        };
        let plan = ChildPlan {
            rlimits: Some(Rlimits::from(limits)),
            new_session: true,
            oom_first: true,
            netns: self.netns,
            credentials: uid.map(|u| (u, u)),
            landlock: ruleset.as_ref().map(AsRawFd::as_raw_fd),
            seccomp: self.seccomp.clone(),
        };
        let mut command = Command::new(&self.python);
        command
            .args(["-B", "-s", SCRIPT])
            .current_dir(dir.path())
            .env_clear()
            .envs(environment(dir.path()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: `apply` makes only async-signal-safe syscalls (see `child`).
        unsafe { command.pre_exec(move || plan.apply()) };

        let start = Instant::now();
        let spawned = command.spawn();
        drop(ruleset);
        let child = match spawned {
            Ok(child) => child,
            Err(e) => {
                return Outcome::error(format!("could not start {}: {e}", self.python.display()))
            }
        };
        let sweep_uid = lease.as_ref().map(|l| l.uid());
        supervise::supervise(child, start, limits, || {
            sweep_uid
                .and_then(|uid| uids::sweep(uid).err())
                .map(|e| e.to_string())
        })
    }

    /// A fresh dir holding the program, owned by the uid that will run it.
    fn prepare_dir(&self, program: &str, uid: Option<u32>) -> io::Result<tempfile::TempDir> {
        let dir = tempfile::Builder::new()
            .prefix("thinkscope-sbx-")
            .tempdir_in(&self.temp_root)?;
        fs::write(dir.path().join(SCRIPT), program)?;
        if let Some(uid) = uid {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(uid))?;
        }
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700))?;
        Ok(dir)
    }
}

/// A uid of its own per run if the kernel accepts one, else `nobody`.
fn probe_identity(base: &ChildPlan, works: impl Fn(ChildPlan) -> bool) -> Option<Identity> {
    let as_uid = |uid| ChildPlan {
        credentials: Some((uid, uid)),
        ..base.clone()
    };
    if works(as_uid(uids::POOL_BASE)) {
        Some(Identity::Isolated(UidPool::default()))
    } else if works(as_uid(uids::NOBODY)) {
        Some(Identity::Nobody)
    } else {
        None
    }
}

/// Whether a ruleset like a run's can be built and applied here.
fn landlock_works(
    abi: u32,
    temp_root: &Path,
    read_paths: &[PathBuf],
    base: &ChildPlan,
    works: impl Fn(ChildPlan) -> bool,
) -> bool {
    let Ok(dir) = tempfile::tempdir_in(temp_root) else {
        return false;
    };
    build_ruleset(abi, dir.path(), read_paths).is_ok_and(|ruleset| {
        works(ChildPlan {
            landlock: Some(ruleset.as_raw_fd()),
            ..base.clone()
        })
    })
}

/// The seccomp filter protecting this process (the supervisor) and its process group.
fn seccomp_filter() -> Option<Arc<[sock_filter]>> {
    let supervisor = seccomp::Supervisor {
        pid: std::process::id(),
        // SAFETY: trivial getter.
        pgid: unsafe { libc::getpgrp() } as u32,
    };
    seccomp::filter(&supervisor).map(Arc::from)
}

fn build_ruleset(abi: u32, dir: &Path, read_paths: &[PathBuf]) -> io::Result<std::os::fd::OwnedFd> {
    let read: Vec<&Path> = read_paths.iter().map(PathBuf::as_path).collect();
    let dev: Vec<&Path> = DEV_FILES.iter().map(Path::new).collect();
    landlock::build_ruleset(abi, dir, &read, &dev)
}

/// System paths, plus the interpreter's own prefix when it lives elsewhere (e.g. /opt).
fn read_paths(python: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = SYSTEM_READ_PATHS.iter().map(PathBuf::from).collect();
    if let Some(prefix) = python.parent().and_then(Path::parent) {
        if !paths.iter().any(|p| prefix.starts_with(p)) {
            paths.push(prefix.to_path_buf());
        }
    }
    paths
}

/// The whole environment a program sees.
fn environment(dir: &Path) -> Vec<(&'static str, OsString)> {
    let dir = dir.as_os_str().to_owned();
    vec![
        ("PATH", SEARCH_PATH.into()),
        ("HOME", dir.clone()),
        ("TMPDIR", dir),
        ("LANG", "C.UTF-8".into()),
        ("LC_ALL", "C.UTF-8".into()),
        ("PYTHONDONTWRITEBYTECODE", "1".into()),
        ("PYTHONNOUSERSITE", "1".into()),
        ("PYTHONIOENCODING", "utf-8".into()),
        ("PYTHONHASHSEED", "0".into()),
    ]
}

fn find_python(configured: Option<PathBuf>) -> Result<PathBuf, SandboxError> {
    let candidates = match configured {
        Some(path) => vec![path],
        None => PYTHON_CANDIDATES.iter().map(PathBuf::from).collect(),
    };
    candidates
        .iter()
        .find_map(|p| fs::canonicalize(p).ok().filter(|p| p.is_file()))
        .ok_or_else(|| SandboxError::NoInterpreter(format!("none of {candidates:?} exists")))
}

/// Starts `python -c ''` under `plan`: the layer works if the interpreter runs.
fn try_plan(python: &Path, plan: &ChildPlan) -> io::Result<()> {
    let plan = plan.clone();
    let mut command = Command::new(python);
    command
        .args(["-c", ""])
        .current_dir("/")
        .env_clear()
        .env("PATH", SEARCH_PATH)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: `apply` makes only async-signal-safe syscalls (see `child`).
    unsafe { command.pre_exec(move || plan.apply()) };
    let status = command.status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("python exited with {status}")))
    }
}

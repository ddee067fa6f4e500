//! Ordinary programs: statuses, environment, output, ordering.
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::sandbox;
use thinkscope_sandbox::{Layer, Limits, Status};

fn quick() -> Limits {
    Limits {
        wall: Duration::from_secs(10),
        cpu_secs: 5,
        ..Limits::default()
    }
}

#[test]
fn probe_reports_at_least_the_documented_minimum() {
    let sandbox = sandbox();
    for layer in Layer::MINIMUM {
        assert!(
            sandbox.has(layer),
            "{layer} missing from {:?}",
            sandbox.layer_names()
        );
    }
}

#[test]
fn exit_statuses_map_to_pass_fail_and_error() {
    let outcomes = sandbox().run_many(
        &[
            "assert 1 + 1 == 2\nprint('fine')",
            "assert 1 + 1 == 3, 'arithmetic'",
            "def broken(:\n    pass",
            "import sys\nsys.exit(7)",
            "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)",
        ],
        &quick(),
        2,
    );
    let statuses: Vec<Status> = outcomes.iter().map(|o| o.status).collect();
    assert_eq!(
        statuses,
        [
            Status::Pass,
            Status::Fail,
            Status::Fail,
            Status::Fail,
            Status::Error
        ],
        "{outcomes:#?}"
    );
    assert_eq!(outcomes[0].stdout_tail, "fine\n");
    assert_eq!(outcomes[0].exit_code, Some(0));
    assert!(outcomes[1]
        .stderr_tail
        .contains("AssertionError: arithmetic"));
    assert!(outcomes[2].stderr_tail.contains("SyntaxError"));
    assert_eq!(outcomes[3].exit_code, Some(7));
    assert_eq!(outcomes[4].signal, Some(11));
}

#[test]
fn environment_is_cleared_and_home_is_the_private_temp_dir() {
    let program = "\
import os, tempfile
print(sorted(os.environ))
assert os.environ['HOME'] == os.getcwd(), (os.environ['HOME'], os.getcwd())
assert tempfile.gettempdir() == os.getcwd()
assert os.listdir('.') == ['main.py'], os.listdir('.')
assert os.stat('.').st_mode & 0o777 == 0o700
";
    let outcome = sandbox().run(program, &quick());
    assert_eq!(outcome.status, Status::Pass, "{outcome:#?}");
    let expected: BTreeSet<&str> = [
        "HOME",
        "LANG",
        "LC_ALL",
        "PATH",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONHASHSEED",
        "PYTHONIOENCODING",
        "PYTHONNOUSERSITE",
        "TMPDIR",
    ]
    .into();
    let shown = format!("{:?}\n", expected.iter().collect::<Vec<_>>()).replace('"', "'");
    assert_eq!(outcome.stdout_tail, shown);
}

#[test]
fn runs_as_an_unprivileged_uid_when_the_probe_says_so() {
    let outcome = sandbox().run(
        "import os\nprint(os.getuid(), os.getgid(), os.getgroups())",
        &quick(),
    );
    assert_eq!(outcome.status, Status::Pass, "{outcome:#?}");
    let uid: u32 = outcome
        .stdout_tail
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    if sandbox()
        .layers()
        .iter()
        .any(|l| matches!(l, Layer::Uid(_)))
    {
        assert_ne!(uid, 0);
        assert!(
            outcome.stdout_tail.trim_end().ends_with("[]"),
            "no supplementary groups"
        );
    } else {
        eprintln!("no uid layer: ran as uid {uid}");
    }
}

#[test]
fn run_many_keeps_input_order() {
    let programs: Vec<String> = (0..12).map(|i| format!("print({i} * {i})")).collect();
    let outcomes = sandbox().run_many(&programs, &quick(), 3);
    let printed: Vec<String> = outcomes
        .iter()
        .map(|o| o.stdout_tail.trim().to_owned())
        .collect();
    let expected: Vec<String> = (0..12).map(|i| (i * i).to_string()).collect();
    assert_eq!(printed, expected);
}

#[test]
fn output_tails_are_capped_but_counted() {
    let limits = Limits {
        output_tail_bytes: 100,
        ..quick()
    };
    let outcome = sandbox().run(
        "import sys\nprint('a' * 5000 + 'TAIL')\nsys.stderr.write('e' * 300 + 'ERR')",
        &limits,
    );
    assert_eq!(outcome.status, Status::Pass);
    assert_eq!(outcome.stdout_bytes, 5005);
    assert_eq!(outcome.stdout_tail.len(), 100);
    assert!(outcome.stdout_tail.ends_with("aTAIL\n"));
    assert_eq!(outcome.stderr_bytes, 303);
    assert!(outcome.stderr_tail.ends_with("eERR"));
}

#[test]
fn the_process_limit_counts_only_the_runs_own_processes() {
    let program = "\
import os, time
kids = 0
for _ in range(40):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(1)
        os._exit(0)
    kids += 1
print(kids)
";
    let limits = Limits {
        processes: 12,
        ..quick()
    };
    let outcome = sandbox().run(program, &limits);
    assert_eq!(outcome.status, Status::Pass, "{outcome:#?}");
    let kids: u64 = outcome.stdout_tail.trim().parse().unwrap();
    let has_uid = sandbox()
        .layers()
        .iter()
        .any(|l| matches!(l, Layer::Uid(_)));
    // SAFETY: trivial getter.
    let root = unsafe { libc::geteuid() } == 0;
    // A uid of its own, or (not root) a user namespace from the netns layer, makes the
    // count per run; a shared uid counts every process of that user.
    let per_run = sandbox().has(Layer::Uid(thinkscope_sandbox::UidMode::Isolated))
        || (!root && sandbox().has(Layer::NetNs));
    if per_run {
        assert_eq!(
            kids,
            limits.processes - 1,
            "python itself is the first process"
        );
    } else if has_uid || !root {
        assert!(kids < limits.processes, "{kids} children");
    } else {
        eprintln!("root without a uid layer: RLIMIT_NPROC does not bind ({kids} children)");
    }
}

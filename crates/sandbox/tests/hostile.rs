//! The hostile suite: each attack is contained and reported while other runs go on.
//!
//! Assertions depend on a layer only where a kernel may genuinely lack it; the layers in
//! force are printed by the probe (run with `--nocapture` to see them).
#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::sandbox;
use thinkscope_sandbox::{Layer, Limits, Status, UidMode};

fn limits(wall_secs: u64) -> Limits {
    Limits {
        wall: Duration::from_secs(wall_secs),
        cpu_secs: 3,
        ..Limits::default()
    }
}

fn landlock() -> bool {
    sandbox().landlock_abi().is_some()
}

/// A unique token to find a run's processes in /proc or a leaked secret in output.
fn marker(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("thinkscope-{what}-{}-{nanos}", std::process::id())
}

/// Re-execs Python so that `marker` is in the argv of every process the code forks.
fn tagged(code: &str, marker: &str) -> String {
    format!(
        "import os, sys\nos.execv(sys.executable, [sys.executable, '-c', {code:?}, {marker:?}])\n"
    )
}

fn processes_with(marker: &str) -> usize {
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| fs::read(e.path().join("cmdline")).ok())
        .filter(|cmdline| String::from_utf8_lossy(cmdline).contains(marker))
        .count()
}

/// A world-writable dir outside the sandbox, so only Landlock (not file modes) guards it.
fn open_decoy_dir() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("thinkscope-decoy-")
        .tempdir()
        .unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    dir
}

const CANARY: &str =
    "import time\ntime.sleep(0.3)\nassert sum(range(10)) == 45\nprint('canary ok')";

#[test]
fn fork_bomb_memory_bomb_and_busy_loop_run_alongside_healthy_programs() {
    let bomb_marker = marker("forkbomb");
    let fork_bomb = tagged(
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
        &bomb_marker,
    );
    let programs = [
        fork_bomb.as_str(),
        CANARY,
        "blob = bytearray(64 * 2**30)",
        CANARY,
        "hog = []\nwhile True:\n    hog.append(bytearray(2**26))",
        CANARY,
        "while True:\n    pass",
        CANARY,
    ];
    let limits = Limits {
        memory_bytes: 1 << 30,
        ..limits(6)
    };
    let started = Instant::now();
    let outcomes = sandbox().run_many(&programs, &limits, 4);
    eprintln!("hostile batch took {:?}", started.elapsed());
    for (program, outcome) in programs.iter().zip(&outcomes) {
        eprintln!(
            "{:?} {:?} {:?}: {}",
            outcome.status,
            outcome.detail,
            outcome.wall,
            program.lines().last().unwrap()
        );
    }

    for canary in [1, 3, 5, 7] {
        assert_eq!(
            outcomes[canary].status,
            Status::Pass,
            "{:#?}",
            outcomes[canary]
        );
        assert_eq!(outcomes[canary].stdout_tail, "canary ok\n");
    }
    // The fork bomb burns its CPU or wall time, then its whole tree is gone.
    assert_eq!(outcomes[0].status, Status::Timeout, "{:#?}", outcomes[0]);
    assert!(outcomes[0].wall < Duration::from_secs(8));
    assert_eq!(
        processes_with(&bomb_marker),
        0,
        "fork bomb processes survived"
    );
    for memory_bomb in [2, 4] {
        let outcome = &outcomes[memory_bomb];
        assert_eq!(outcome.status, Status::Error, "{outcome:#?}");
        assert_eq!(
            outcome.detail.as_deref(),
            Some("memory limit (MemoryError)")
        );
    }
    assert_eq!(outcomes[6].status, Status::Timeout, "{:#?}", outcomes[6]);
}

#[test]
fn a_busy_loop_is_stopped_by_the_cpu_limit_before_the_wall_clock() {
    let limits = Limits {
        cpu_secs: 1,
        ..limits(30)
    };
    let outcome = sandbox().run("while True:\n    pass", &limits);
    assert_eq!(outcome.status, Status::Timeout, "{outcome:#?}");
    assert_eq!(outcome.signal, Some(24), "SIGXCPU");
    assert_eq!(outcome.detail.as_deref(), Some("CPU limit of 1s"));
}

#[test]
fn sleeping_past_the_wall_clock_is_a_timeout() {
    let limits = Limits {
        wall: Duration::from_millis(700),
        ..limits(1)
    };
    let outcome = sandbox().run(
        "import time\nprint('going to sleep', flush=True)\ntime.sleep(60)",
        &limits,
    );
    assert_eq!(outcome.status, Status::Timeout, "{outcome:#?}");
    assert_eq!(outcome.signal, Some(9));
    assert!(outcome.wall >= Duration::from_millis(700) && outcome.wall < Duration::from_secs(3));
    assert_eq!(
        outcome.stdout_tail, "going to sleep\n",
        "output before the kill is kept"
    );
}

#[test]
fn escaped_daemons_are_swept_when_each_run_has_its_own_uid() {
    if !sandbox().has(Layer::Uid(UidMode::Isolated)) {
        // Only a uid of its own lets the sweep find processes that left the group; a daemon
        // here would outlive the test.
        eprintln!("no per-run uid: a setsid() daemon would escape; not running it");
        return;
    }
    let daemon_marker = marker("daemon");
    let program = tagged(
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\nprint('parent done')",
        &daemon_marker,
    );
    let outcome = sandbox().run(&program, &limits(5));
    assert_eq!(outcome.status, Status::Pass, "{outcome:#?}");
    assert_eq!(outcome.stdout_tail, "parent done\n");
    assert_eq!(
        processes_with(&daemon_marker),
        0,
        "a setsid() daemon outlived its run"
    );
}

#[test]
fn no_connection_reaches_a_listener_on_loopback() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let program = format!(
        "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=2)\ns.sendall(b'leak')\nprint('CONNECTED')"
    );
    let outcome = sandbox().run(&program, &limits(5));
    let blocked = match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => true,
        Err(e) => panic!("accept: {e}"),
        Ok(_) => false,
    };
    let network_layers = sandbox().has(Layer::NetNs)
        || sandbox().has(Layer::Seccomp)
        || sandbox().landlock_abi().is_some_and(|abi| abi >= 4);
    if network_layers {
        assert!(blocked, "the listener received a connection");
        assert_eq!(outcome.status, Status::Fail, "{outcome:#?}");
        assert!(!outcome.stdout_tail.contains("CONNECTED"));
        assert!(
            outcome.stderr_tail.contains("Error"),
            "{}",
            outcome.stderr_tail
        );
    } else {
        eprintln!("no network layer in force; connection blocked: {blocked}");
    }
}

#[test]
fn writes_outside_the_temp_dir_do_not_land() {
    let decoy = open_decoy_dir();
    let in_tmp = decoy.path().join("escaped.txt");
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let in_home = home
        .as_ref()
        .map(|h| h.join(format!("{}.txt", marker("home-write"))));
    let targets: Vec<&Path> = [Some(in_tmp.as_path()), in_home.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let program = format!(
        "import sys\nfailures = 0\nfor path in {:?}:\n    try:\n        open(path, 'w').write('x')\n        print('WROTE', path)\n    except OSError as e:\n        failures += 1\n        print('denied', path, e)\nsys.exit(failures)",
        targets.iter().map(|p| p.to_string_lossy()).collect::<Vec<_>>()
    );
    let outcome = sandbox().run(&program, &limits(5));
    eprintln!("{}", outcome.stdout_tail);
    let home_leaked = in_home.as_ref().is_some_and(|p| p.exists());
    if let Some(p) = in_home.as_ref().filter(|_| home_leaked) {
        fs::remove_file(p).unwrap();
    }
    if landlock() {
        assert!(!in_tmp.exists(), "wrote into /tmp outside its dir");
        assert_eq!(
            outcome.exit_code,
            Some(targets.len() as i32),
            "every write is denied"
        );
    }
    if landlock()
        || sandbox()
            .layers()
            .iter()
            .any(|l| matches!(l, Layer::Uid(_)))
    {
        assert!(!home_leaked, "wrote into the user's home");
    }
    assert!(
        !outcome.stdout_tail.contains("WROTE") || !landlock(),
        "{}",
        outcome.stdout_tail
    );
}

#[test]
fn secrets_outside_the_temp_dir_cannot_be_read() {
    let home = open_decoy_dir();
    let ssh = home.path().join(".ssh");
    fs::create_dir(&ssh).unwrap();
    fs::set_permissions(&ssh, fs::Permissions::from_mode(0o755)).unwrap();
    let secret = marker("secret-key");
    let key = ssh.join("id_ed25519");
    fs::write(&key, &secret).unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();

    let program = format!(
        "import os\nfor path in [{key:?}, os.path.expanduser('~/.ssh/id_ed25519')]:\n    try:\n        print(open(path).read())\n    except OSError as e:\n        print('denied', e)\ntry:\n    print('listed', os.listdir({ssh:?}))\nexcept OSError as e:\n    print('denied', e)",
        key = key.to_string_lossy(),
        ssh = ssh.to_string_lossy(),
    );
    let outcome = sandbox().run(&program, &limits(5));
    let leaked = outcome.stdout_tail.contains(&secret) || outcome.stdout_tail.contains("listed");
    if landlock() {
        assert_eq!(outcome.status, Status::Pass, "{outcome:#?}");
        assert!(!leaked, "{outcome:#?}");
        let denials = outcome
            .stdout_tail
            .lines()
            .filter(|l| l.starts_with("denied "))
            .count();
        assert_eq!(denials, 3, "{}", outcome.stdout_tail);
    } else {
        eprintln!("no landlock: world-readable decoy leaked: {leaked}");
    }
}

#[test]
fn rm_rf_of_a_dir_outside_the_sandbox_leaves_it_intact() {
    let decoy = open_decoy_dir();
    let precious = decoy.path().join("precious.txt");
    fs::write(&precious, "keep me").unwrap();
    fs::set_permissions(&precious, fs::Permissions::from_mode(0o666)).unwrap();
    let program = format!(
        "import os\nprint(os.system('rm -rf {}'))",
        decoy.path().display()
    );
    let outcome = sandbox().run(&program, &limits(5));
    if landlock() {
        assert_eq!(
            fs::read_to_string(&precious).unwrap(),
            "keep me",
            "{outcome:#?}"
        );
        assert_ne!(outcome.stdout_tail.trim(), "0", "rm must report failure");
    } else {
        eprintln!("no landlock: decoy survived: {}", precious.exists());
    }
}

#[test]
fn killing_the_parent_is_refused_and_the_supervisor_survives() {
    let confined = sandbox().has(Layer::Seccomp)
        || sandbox()
            .layers()
            .iter()
            .any(|l| matches!(l, Layer::Uid(_)))
        || sandbox().landlock_abi().is_some_and(|abi| abi >= 6);
    if !confined {
        eprintln!("no layer stops signals to the supervisor here: not running the attack");
        return;
    }
    let programs = [
        "import os\nos.kill(os.getppid(), 9)",
        "import os, signal\nos.killpg(os.getpgid(os.getppid()), signal.SIGKILL)",
        CANARY,
    ];
    let outcomes = sandbox().run_many(&programs, &limits(5), 3);
    for outcome in &outcomes[..2] {
        assert_eq!(outcome.status, Status::Fail, "{outcome:#?}");
        assert!(
            outcome.stderr_tail.contains("PermissionError"),
            "{}",
            outcome.stderr_tail
        );
    }
    assert_eq!(outcomes[2].status, Status::Pass);
}

/// Peak resident memory of this test process.
fn peak_rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_hundred_megabytes_of_output_keeps_only_a_bounded_tail() {
    let before = peak_rss_kib();
    let limits = Limits {
        output_tail_bytes: 4096,
        ..limits(20)
    };
    let flood = sandbox().run(
        "import sys\nsys.stdout.write('x' * (100 * 2**20))\nsys.stdout.write('END')",
        &limits,
    );
    let endless = sandbox().run(
        "import sys\nwhile True:\n    sys.stderr.write('y' * 65536)",
        &Limits {
            wall: Duration::from_secs(2),
            ..limits.clone()
        },
    );
    let grown_mib = peak_rss_kib().saturating_sub(before) / 1024;
    assert_eq!(flood.status, Status::Pass, "{flood:#?}");
    assert_eq!(flood.stdout_bytes, 100 * (1 << 20) + 3);
    assert_eq!(flood.stdout_tail.len(), 4096);
    assert!(flood.stdout_tail.ends_with("xxxEND"));
    assert_eq!(endless.status, Status::Timeout, "{endless:#?}");
    assert!(
        endless.stderr_bytes > 1 << 20,
        "the endless writer was drained, not stalled"
    );
    assert_eq!(endless.stderr_tail.len(), 4096);
    assert!(
        grown_mib < 48,
        "supervisor peak memory grew by {grown_mib} MiB"
    );
}

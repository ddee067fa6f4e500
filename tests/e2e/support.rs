//! Processes and paths for the real-window test: Xvfb, tauri-driver, the app binary.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The external programs the test drives.
pub struct Tools {
    pub xvfb: PathBuf,
    pub tauri_driver: PathBuf,
    pub webkit_driver: PathBuf,
}

/// Finds the tools, or says which are missing and how to install them.
pub fn find_tools() -> Result<Tools, String> {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .map(|p| p.join("bin"));
    let xvfb = which("Xvfb", None);
    let tauri_driver = which("tauri-driver", cargo_bin.as_deref());
    let webkit_driver = which("WebKitWebDriver", None);
    match (xvfb, tauri_driver, webkit_driver) {
        (Some(xvfb), Some(tauri_driver), Some(webkit_driver)) => {
            Ok(Tools { xvfb, tauri_driver, webkit_driver })
        }
        (x, t, w) => {
            let mut missing = Vec::new();
            if x.is_none() {
                missing.push("Xvfb (apt-get install xvfb xauth)");
            }
            if t.is_none() {
                missing.push("tauri-driver (cargo install tauri-driver --version 2.1.0 --locked)");
            }
            if w.is_none() {
                missing.push("WebKitWebDriver (apt-get install webkit2gtk-driver)");
            }
            Err(format!("missing: {}", missing.join("; ")))
        }
    }
}

fn which(name: &str, extra: Option<&Path>) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra.map(Path::to_path_buf))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// The repository root (this package lives in `<repo>/tests`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// `$THINKSCOPE_SHARED`, else `<repo>/../shared`.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("THINKSCOPE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("..").join("shared"))
}

/// `$THINKSCOPE_APP_BIN`, else `thinkscope-app` in the profile directory this test was
/// built into (`<target>/<profile>/deps/window-… → <target>/<profile>/thinkscope-app`).
pub fn app_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("THINKSCOPE_APP_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("THINKSCOPE_APP_BIN={} is not a file", path.display()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the test binary: {e}"))?;
    let profile_dir = exe.parent().and_then(Path::parent).ok_or("test binary has no profile dir")?;
    let app = profile_dir.join("thinkscope-app");
    if app.is_file() {
        Ok(app)
    } else {
        Err(format!(
            "{} not found: build the UI and the app first (ui/build.sh && cargo build -p thinkscope-app)",
            app.display()
        ))
    }
}

/// A child process stopped with SIGTERM on drop (SIGKILL would orphan tauri-driver's
/// WebKitWebDriver), then reaped.
pub struct Guard {
    name: &'static str,
    child: Child,
}

impl Guard {
    pub fn spawn(name: &'static str, cmd: &mut Command) -> Result<Guard, String> {
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        Ok(Guard { name, child })
    }

    /// Fails if the process already exited (a display or port taken, a crash).
    pub fn check_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(format!("{} exited early: {status}", self.name)),
            Ok(None) => Ok(()),
            Err(e) => Err(format!("cannot check {}: {e}", self.name)),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: kill(2) on our own child's pid, which is not reaped yet.
            unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            eprintln!("{} ignored SIGTERM; killing it", self.name);
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts Xvfb on a display nobody uses; returns it with its number.
pub fn start_xvfb(xvfb: &Path) -> Result<(Guard, u32), String> {
    let base = 90 + std::process::id() % 400;
    for display in (base..base + 40).filter(|d| !Path::new(&format!("/tmp/.X{d}-lock")).exists()) {
        let mut guard = Guard::spawn(
            "Xvfb",
            Command::new(xvfb)
                .arg(format!(":{display}"))
                .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        )?;
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{display}"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if guard.check_running().is_err() {
                break; // Lost a race for this display: try the next.
            }
            if socket.exists() {
                return Ok((guard, display));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Err("could not start Xvfb on any display".into())
}

/// A TCP port free right now on localhost.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// Waits until something accepts connections on `port`, while `guard` keeps running.
pub fn wait_for_port(port: u16, guard: &mut Guard, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        guard.check_running()?;
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("nothing listens on port {port} after {timeout:?}"))
}

//! Shared by the integration tests: one probed sandbox per test binary.

use std::sync::OnceLock;

use thinkscope_sandbox::Sandbox;

pub fn sandbox() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| {
        let started = std::time::Instant::now();
        let sandbox = Sandbox::probe().expect("the sandbox probe must succeed on Linux");
        eprintln!(
            "sandbox layers in force: {:?} (probed in {:.0?})",
            sandbox.layer_names(),
            started.elapsed()
        );
        sandbox
    })
}

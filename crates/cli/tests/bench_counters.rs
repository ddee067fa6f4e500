//! `bench decode` checks its own forward-token counters; they must hold for every length
//! and number of forced extensions (a run may end on an insertion that is never fed).

use std::process::Command;

#[test]
fn decode_bench_counters_hold_for_a_sweep_of_lengths_and_waits() {
    for tokens in [1, 2, 7, 8, 13, 32, 40] {
        for waits in [0, 1, 3] {
            let out = Command::new(env!("CARGO_BIN_EXE_thinkscope"))
                .args(["bench", "decode", "--random", "tiny-qwen2", "--prompt-tokens", "16", "--repeats", "1", "--json"])
                .args(["--tokens", &tokens.to_string(), "--waits", &waits.to_string()])
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "--tokens {tokens} --waits {waits}: {stderr}");
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["exact"], true, "--tokens {tokens} --waits {waits}: {v}");
            assert_eq!(v["forced"]["forward_tokens"], v["expected_forward_tokens"]);
        }
    }
}

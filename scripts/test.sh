#!/usr/bin/env bash
# README command 2: set up, then run every test — unit, cross-crate, and the real-window
# end-to-end test (which starts its own Xvfb, so no display is needed).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh
bash ui/build.sh
# The real-window test drives the built app binary, which `cargo test` does not build.
cargo build -p thinkscope-app
export THINKSCOPE_SHARED="${THINKSCOPE_SHARED:-$REPO_ROOT/../shared}"
cargo test --workspace --no-fail-fast "$@"

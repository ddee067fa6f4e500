#!/usr/bin/env bash
# README command 1: set up, build and launch the thinkscope app. With no display it
# says so, builds the CLI and shows what it can do instead.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh
# One profile for both README commands: the test command builds the same CLI and app, so
# running this right after it compiles nothing again.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "==> no display (DISPLAY and WAYLAND_DISPLAY are unset): running the evaluation path headless" >&2
  cargo build -p thinkscope-cli
  exec bash scripts/demo.sh "$CARGO_TARGET_DIR/debug/thinkscope"
fi
bash ui/build.sh
cargo build -p thinkscope-app
exec "$CARGO_TARGET_DIR/debug/thinkscope-app" "$@"

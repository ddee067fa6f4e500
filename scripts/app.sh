#!/usr/bin/env bash
# README command 1: set up, build and launch the thinkscope app. With no display it
# says so, builds the CLI and shows what it can do instead.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "==> no display (DISPLAY and WAYLAND_DISPLAY are unset): building the headless CLI instead" >&2
  cargo build --release -p thinkscope-cli
  cli="$CARGO_TARGET_DIR/release/thinkscope"
  echo
  echo "The CLI is at $cli; it works on the same library file as the app."
  echo "Try:  $cli import ../shared/datasets/math500.jsonl && $cli samples math500 --search prime"
  echo
  "$cli" --help
  exit 0
fi
bash ui/build.sh
cargo build --release -p thinkscope-app
exec "$CARGO_TARGET_DIR/release/thinkscope-app" "$@"

#!/usr/bin/env bash
# Builds the UI into ui/dist: the wasm app (cargo + wasm-bindgen) and the bundled KaTeX.
# Needs: rustup target wasm32-unknown-unknown, wasm-bindgen-cli equal to the wasm-bindgen
# in Cargo.lock, node + npm (KaTeX comes from ui/package-lock.json). PROFILE=debug builds faster;
# the default is release.
set -euo pipefail

ui="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$ui")"
profile="${PROFILE:-release}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
dist="$ui/dist"

want="$(grep -A1 '^name = "wasm-bindgen"$' "$root/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p' | head -n1)"
have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')"
if [[ "$have" != "$want" ]]; then
  echo "ui/build.sh: need wasm-bindgen-cli $want (found '${have:-none}'):" >&2
  echo "  cargo install wasm-bindgen-cli --version $want" >&2
  exit 1
fi

flag=()
[[ "$profile" == release ]] && flag=(--release)
(cd "$root" && cargo build -p thinkscope-ui --lib --target wasm32-unknown-unknown "${flag[@]}")

rm -rf "$dist/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$dist/pkg" \
  "$target_dir/wasm32-unknown-unknown/$profile/thinkscope_ui.wasm"
# No wasm-opt: Debian's binaryen 108 predates the reference-types output of current rustc
# and produces a module WebKit rejects ("Argument value did not match the reference type").

if [[ ! -d "$ui/node_modules/katex" ]]; then
  (cd "$ui" && npm ci --no-audit --no-fund)
fi
rm -rf "$dist/katex"
mkdir -p "$dist/katex"
cp "$ui/node_modules/katex/dist/katex.min.js" "$ui/node_modules/katex/dist/katex.min.css" "$dist/katex/"
cp -r "$ui/node_modules/katex/dist/fonts" "$dist/katex/fonts"

echo "ui/build.sh: built $dist ($profile)"

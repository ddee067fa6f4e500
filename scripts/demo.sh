#!/usr/bin/env bash
# The evaluation path end to end with nothing downloaded: the AIME 2024 file the project
# ships, the demo model (random weights, not a real model), a small s1 budget-forcing
# sweep, scores, and the accuracy-vs-thinking-tokens figure. Usage: demo.sh PATH/TO/thinkscope
set -euo pipefail
cli="$1"
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${THINKSCOPE_DEMO_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/thinkscope/demo}"
mkdir -p "$out"
db="$out/demo.db"
ts() { "$cli" --db "$db" "$@"; }

[ -f "$out/model/model.safetensors" ] || "$cli" models --write-demo "$out/model"
ts import "$root/examples/aime24_nofigures.jsonl" --name aime24 >/dev/null
echo "==> s1 budget forcing on 5 AIME 2024 problems, budgets 32, 64, 128 (demo model)"
ts eval run aime24 --model "$out/model" --template s1 --policy budget-forcing --budgets 32,64,128 \
  --max-answer 16 --limit 5 --name "demo sweep" --new
# The run was scored when it finished.
ts eval report "demo sweep"
ts eval plot "demo sweep" --out "$out/accuracy.svg" --csv "$out/accuracy.csv"
ts eval plot "demo sweep" --out "$out/accuracy.png" --control "$out/budget-control.png"
echo "figure: $out/accuracy.svg and .png (numbers: $out/accuracy.csv)"
ts eval generations "demo sweep" --point 32 | head -5
cat <<MSG

Library: $db (open it in the app with File → Open, or pass --db to the CLI).
The demo model has random weights, so its answers are noise. With a real model:
  $cli eval run aime24 --model /path/to/s1.1-32B --template s1 --policy budget-forcing \\
      --budgets 512,1024,2048,4096,8192 --batch 8
  ($cli models lists the models in your Hugging Face cache and --dir folders.)
MSG

#!/usr/bin/env bash
# A million papers: import, keyword indexing, start, the first request,
# uncached month pages, keyword and hybrid search, and the server's memory,
# over a Kaggle-snapshot file of N records (default 1,000,000) built from the
# shared arXiv data set by bench/scale_gen.py (new ids, the text of the 74,728
# real records cycled and varied, listing dates over 18 months: about 55,000
# papers a month). The file (about 2 GB of uncompressed JSON at 1M) is built
# once and kept in $SCALE_DATA (default target/bench-data).
#
#   bash bench/scale.sh [DATA_DIR]        N=100000 bash bench/scale.sh   (smaller)
#   PAPERBOY_BIN=path/to/paperboy VECTORS=0 bash bench/scale.sh DATA_DIR   (another build)
#
# DATA_DIR (default: a temporary directory) is imported into when it has no
# store yet, so a second run can skip the import (its row then says so).
# VECTORS=0 skips the vectors: no hybrid row, and `serve` runs without a model.
# With vectors, every paper gets a synthetic 384-dimension vector (a hashed
# bag-of-words projection of its title, `crates/search/examples/synthetic_vectors.rs`):
# embedding a million texts with the model would take hours on two cores, and
# the time and memory of vector search do not depend on what the vectors mean.
# Queries are embedded with the real model. Prints a Markdown table.
# Skips (exit 0) when ../shared is not there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VECTORS="${VECTORS:-1}"
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time"; exit 1; }
source bench/scale_file.sh
# PAPERBOY_BIN: measure that binary (its examples/ beside it) instead of building one.
if [ -n "${PAPERBOY_BIN:-}" ]; then
  BIN=$(realpath "$PAPERBOY_BIN")
  TARGET=$(dirname "$BIN")
elif [ "$VECTORS" = 1 ]; then
  cargo build --release --locked -q -p paperboy -p paperboy-search --bin paperboy --example synthetic_vectors
else
  cargo build --release --locked -q -p paperboy
fi
[ "$VECTORS" = 1 ] && { [ -f "$MODEL/model.safetensors" ] || bash scripts/fetch-model.sh; }
TARGET="${TARGET:-$ROOT/${CARGO_TARGET_DIR:-target}/release}"
BIN="${BIN:-$TARGET/paperboy}"
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${1:-}" ]; then DIR=$(realpath "$1"); else DIR="$work/data"; fi
# Run from an empty directory, so that no ./models is found unless asked for.
cd "$work"
export PAPERBOY_LOG=warn
ms() { python3 -c "import sys; print(f'{float(sys.argv[1]) * 1000:.1f}')" "$1"; }
now() { date +%s.%N; }

# 1. Import (keyword indexing follows in the same command).
import_row="| import | (reused $DIR) | |"
index_row="| keyword indexing | (reused) | |"
if [ ! -f "$DIR/paperboy.db" ]; then
  t0=$(now)
  /usr/bin/time -v "$BIN" --data-dir "$DIR" import "$FILE" > "$work/import.out" 2> "$work/import.time"
  t1=$(now)
  line=$(grep '^imported' "$work/import.out")
  secs=$(echo "$line" | sed -E 's/.* in ([0-9.]+)s.*/\1/')
  rate=$(echo "$line" | sed -E 's/.*\(([0-9]+) records\/s\).*/\1/')
  rss_kb=$(grep 'Maximum resident set size' "$work/import.time" | awk '{print $NF}')
  index_s=$(python3 -c "print(f'{$t1 - $t0 - $secs:.0f}')")
  verdict=$([ "$rate" -ge 20000 ] && echo "met" || echo "not met")
  import_row="| import ($N records, $(du -m "$FILE" | cut -f1) MiB of JSON) | **$rate records/s** (${secs} s), peak RSS $((rss_kb / 1024)) MiB | ≥ 20,000/s: $verdict |"
  index_row="| keyword indexing (after the import, same command) | ${index_s} s | |"
fi
vectors_row="| vectors | none (VECTORS=0) | |"
serve_model=()
if [ "$VECTORS" = 1 ]; then
  t0=$(now)
  "$TARGET/examples/synthetic_vectors" "$DIR/index" > "$work/vectors.out" 2> "$work/vectors.err"
  t1=$(now)
  nvec=$(sed -E 's/.*\(([0-9]+) in the index\).*/\1/' "$work/vectors.out")
  vectors_row="| synthetic vectors ($nvec in the index) | $(python3 -c "print(f'{$t1 - $t0:.0f}')") s to write (a bench step, not a product figure) | |"
  serve_model=(--model-dir "$MODEL")
fi

# 2. Start: from exec until /healthz answers, then the first `/`.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
t0=$(now)
"$BIN" --data-dir "$DIR" "${serve_model[@]}" serve --addr "127.0.0.1:$port" > "$work/serve.out" 2> "$work/serve.err" &
pid=$!
until curl -sf "$base/healthz" > /dev/null; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
  sleep 0.02
done
t1=$(now)
start_ms=$(python3 -c "print(f'{($t1 - $t0) * 1000:.0f}')")
first=$(curl -sf -o /dev/null -w '%{time_total}' "$base/")
first_ms=$(ms "$first")
second_ms=$(ms "$(curl -sf -o /dev/null -w '%{time_total}' "$base/")")

# 3. Uncached month pages: every month once per order (distinct URLs, so the
# response cache never answers), page 1 and page 2.
months=$(python3 - "$FILE" <<'EOF'
import json, sys
seen = []
with open(sys.argv[1], "rb") as f:
    size = f.seek(0, 2)
    for i in range(60):
        f.seek(size * i // 60); f.readline()
        line = f.readline()
        if not line: continue
        c = json.loads(line)["versions"][0]["created"].split()
        mon = {"Jan":1,"Feb":2,"Mar":3,"Apr":4,"May":5,"Jun":6,"Jul":7,"Aug":8,"Sep":9,"Oct":10,"Nov":11,"Dec":12}[c[2]]
        m = f"{c[3]}-{mon:02d}"
        if m not in seen: seen.append(m)
print(" ".join(seen))
EOF
)
: > "$work/month.times"
for m in $months; do
  for q in "" "?sort=new" "?page=2" "?sort=new&page=2"; do
    curl -sf -o /dev/null -w '%{time_total}\n' "$base/papers/month/$m$q" >> "$work/month.times"
  done
done
stats() { python3 -c "
import sys
xs = sorted(float(x) * 1000 for x in open(sys.argv[1]) if x.strip())
q = lambda p: xs[min(len(xs) - 1, int(p * len(xs)))]
print(f'{q(0.5):.1f} / {q(0.99):.1f} / {xs[-1]:.1f} ms ({len(xs)} requests)')" "$1"; }
month_stats=$(stats "$work/month.times")
month_p50=$(python3 -c "
xs = sorted(float(x) * 1000 for x in open('$work/month.times') if x.strip()); print(xs[len(xs) // 2])")
month_papers=$(sqlite3 "$DIR/paperboy.db" \
  "SELECT COUNT(*) FROM papers GROUP BY substr(listed_on, 1, 7) ORDER BY 1 DESC LIMIT 1" 2>/dev/null || echo "?")

# 4. Search over HTTP: every query of bench/search/queries.txt once per mode
# (first asks, so uncached), then again (warm caches, still distinct from
# the first round's responses only by mode order: the response cache answers
# repeated URLs, so the second round uses `&r=2`).
search() {
  local mode=$1 out=$2
  : > "$out"
  for round in 1 2; do
    while read -r q; do
      case "$q" in ''|'#'*) continue ;; esac
      curl -sf -o /dev/null -w '%{time_total}\n' -G "$base/api/papers/search" --data-urlencode "q=$q" \
        --data-urlencode "mode=$mode" --data-urlencode "r=$round" >> "$out"
    done < "$ROOT/bench/search/queries.txt"
  done
}
search keyword "$work/kw.times"
kw_stats=$(stats "$work/kw.times")
hybrid_row="| hybrid search p50 / p99 / max | (VECTORS=0) | |"
if [ "$VECTORS" = 1 ]; then
  search hybrid "$work/hy.times"
  hybrid_row="| hybrid search p50 / p99 / max (query embedded by the model) | $(stats "$work/hy.times") | |"
fi
rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""

verdict() { python3 -c "print('met' if float('$1') < $2 else 'not met')"; }
echo "| step | measured | goal |"
echo "|---|---|---|"
echo "$import_row"
echo "$index_row"
echo "$vectors_row"
echo "| start (exec to the first /healthz answer) | ${start_ms} ms | |"
echo "| first \`/\` after start | **${first_ms} ms** (the second: ${second_ms} ms) | < 200 ms: $(verdict "$first_ms" 200) |"
echo "| uncached month page p50 / p99 / max (trending and new, pages 1 and 2; busiest month $month_papers papers) | **$month_stats** | < 30 ms: $(verdict "$month_p50" 30) (p50) |"
echo "| keyword search p50 / p99 / max (40 queries x 2, HTTP API) | $kw_stats | |"
echo "$hybrid_row"
echo "| RSS of \`serve\` after all of the above ($([ "$VECTORS" = 1 ] && echo "with $N vectors and the model" || echo "no vectors")) | **${rss} MiB** (peak ${hwm} MiB) | < 1.5 GB: $([ "$hwm" -lt 1536 ] && echo met || echo "not met") |"
echo
echo "data directory: $(du -sm "$DIR" | cut -f1) MiB (store $(du -sm "$DIR/paperboy.db" | cut -f1) MiB, index $(du -sm "$DIR/index" | cut -f1) MiB); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(date -u +%Y-%m-%d)"

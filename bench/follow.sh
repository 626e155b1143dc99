#!/usr/bin/env bash
# A new server joining a large PostgreSQL deployment: how long until it has
# every stored vector searchable, and until its graph has caught up.
#
#   bash bench/follow.sh            N=100000 bash bench/follow.sh   (smaller)
#
# Builds (once) the N-record Kaggle-snapshot file of bench/scale.sh, imports
# it into a throwaway PostgreSQL server (with its records/s), stores a
# synthetic vector for every paper through the store's claims
# (crates/services/examples/synthetic_embed.rs: a hashed bag-of-words
# projection of the title under the real model's key, because embedding a
# million texts with the model takes hours on two cores), then starts a
# `paperboy serve` with an empty data directory (PAPERBOY_EMBED=false: it
# computes no vector) and times, from exec: /healthz, the keyword index
# built from the database, every vector loaded (searchable: the ones not yet
# in the graph are scanned), and the graph caught up. Hybrid search latency
# is measured while the vectors are only scanned and again once linked.
# Prints a Markdown table. Skips (exit 0) when ../shared is not there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/postgres.sh bindir >/dev/null || { echo "needs PostgreSQL: apt-get install postgresql"; exit 1; }
source bench/scale_file.sh
[ -f "$MODEL/model.safetensors" ] || bash scripts/fetch-model.sh
cargo build --release --locked -q -p paperboy -p paperboy-services --bin paperboy --example synthetic_embed
TARGET="$ROOT/${CARGO_TARGET_DIR:-target}/release"
BIN="$TARGET/paperboy"
tmp=$(mktemp -d)
pgdir=$(mktemp -d /tmp/paperboy-follow-pg.XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  bash "$ROOT/scripts/postgres.sh" stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
URL=$(bash scripts/postgres.sh start "$pgdir")
cd "$tmp"
now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

# 1. The catalog, into PostgreSQL (the keyword index this builds is the
# importing process's; the server below builds its own).
PAPERBOY_LOG=warn "$BIN" --data-dir "$tmp/first" --database-url "$URL" import "$FILE" > import.out 2> import.err
import_line=$(grep '^imported' import.out)
import_rate=$(echo "$import_line" | sed -E 's/.*\(([0-9]+) records\/s\).*/\1/')
import_secs=$(echo "$import_line" | sed -E 's/.* in ([0-9.]+)s.*/\1/')

# 2. A vector for every paper, stored through the claims.
"$TARGET/examples/synthetic_embed" "$URL" "$MODEL" > embed.out 2> embed.err
embed_line=$(cat embed.out)

# 3. The new server: empty data directory, computes no vector.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
t0=$(now)
PAPERBOY_LOG=info PAPERBOY_EMBED=false "$BIN" --data-dir "$tmp/second" --database-url "$URL" --model-dir "$MODEL" \
  serve --addr "127.0.0.1:$port" > serve.out 2> serve.err &
pid=$!
healthz="" loaded="" linked=""
hybrid() {
  : > "$1"
  while read -r q; do
    case "$q" in ''|'#'*) continue ;; esac
    curl -sf -o /dev/null -w '%{time_total}\n' -G "$base/api/papers/search" --data-urlencode "q=$q" \
      --data-urlencode "mode=hybrid" --data-urlencode "r=$1" >> "$1"
  done < "$ROOT/bench/search/queries.txt"
}
stats() { python3 -c "
import sys
xs = sorted(float(x) * 1000 for x in open(sys.argv[1]) if x.strip())
q = lambda p: xs[min(len(xs) - 1, int(p * len(xs)))]
print(f'{q(0.5):.1f} / {q(0.99):.1f} ms ({len(xs)} queries)')" "$1"; }
scanned="(not measured: the graph caught up first)"
while [ -z "$linked" ]; do
  kill -0 "$pid" 2>/dev/null || { tail -20 serve.err >&2; exit 1; }
  t=$(now)
  [ -z "$healthz" ] && curl -sf "$base/healthz" > /dev/null 2>&1 && healthz=$(secs "$t0" "$t")
  if [ -z "$loaded" ] && grep -q 'vectors loaded from the database' serve.err; then
    loaded=$(secs "$t0" "$t")
    if ! grep -q -e 'vector graph caught up' -e 'which has caught up' serve.err; then
      hybrid scanned.times
      scanned=$(stats scanned.times)
    fi
  fi
  grep -q -e 'vector graph caught up' -e 'which has caught up' serve.err && linked=$(secs "$t0" "$(now)")
  sleep 1
done
hybrid linked.times
rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
load_note=$(grep -o 'vectors loaded from the database: [^;"]*' serve.err | head -1)
verdict=$(python3 -c "print('met' if float('$loaded') < 300 else 'not met')")
echo "| step | measured | goal |"
echo "|---|---|---|"
echo "| import into PostgreSQL ($N records) | $import_rate records/s (${import_secs} s) | |"
echo "| synthetic vectors stored through claims | $embed_line | (a bench step) |"
echo "| new server: exec to /healthz | ${healthz} s | |"
echo "| new server: every vector loaded and searchable (keyword index built first) | **${loaded} s** ($load_note) | < 5 min: $verdict |"
echo "| new server: graph caught up | ${linked} s | |"
echo "| hybrid p50 / p99 while vectors are scanned | $scanned | |"
echo "| hybrid p50 / p99 once linked | $(stats linked.times) | |"
echo "| RSS of the new server at the end | ${rss} MiB (peak ${hwm} MiB) | < 1.5 GB |"
echo
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; $(date -u +%Y-%m-%d)"

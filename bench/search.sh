#!/usr/bin/env bash
# Search benchmark over all 74,728 papers of the shared arXiv data set:
# query latency per mode (query embedding included), index size on disk, and
# the resident memory of `paperboy serve` with everything loaded.
#
#   bash bench/search.sh [DATA_DIR]
#
# DATA_DIR (default: a temporary directory) is imported into when it has no
# store yet, so a second run can reuse it. Vectors are filled from titles
# alone (see search_bench.rs: the index has the real size and shape, built in
# minutes rather than the hour that 74k abstracts take on two cores).
# PAPERBOY_EVIDENCE (off, passages, sentences; default passages) picks the
# evidence vectors, as for the server. Prints Markdown. Skips (exit 0) when
# ../shared is not there.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${PAPERBOY_BENCH_DATA:-../shared/data/arxiv/arxiv-2025-2026.jsonl.zst}"
MODEL="${PAPERBOY_MODEL_DIR:-models/all-MiniLM-L6-v2}"
if [ ! -f "$DATA" ]; then
  echo "SKIPPED: $DATA not found (the search benchmark needs ../shared beside the repository)"
  exit 0
fi
[ -f "$MODEL/model.safetensors" ] || bash scripts/fetch-model.sh
cargo build --release --locked -q -p paperboy -p paperboy-search --bin paperboy --example search_bench
TARGET="${CARGO_TARGET_DIR:-target}/release"
if [ -n "${1:-}" ]; then DIR="$1"; else DIR=$(mktemp -d); trap 'rm -rf "$DIR"' EXIT; fi
if [ ! -f "$DIR/paperboy.db" ]; then
  echo "importing $DATA into $DIR" >&2
  "$TARGET/paperboy" --data-dir "$DIR" --log warn import "$DATA" >&2
fi
"$TARGET/examples/search_bench" "$DIR/index" bench/search/queries.txt --model "$MODEL" --embed-titles \
  --evidence "${PAPERBOY_EVIDENCE:-passages}"

# Resident memory of the server with the store, both indexes and the model
# loaded, after it has answered searches in every mode.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$TARGET/paperboy" --data-dir "$DIR" --model-dir "$MODEL" --log warn serve --addr "127.0.0.1:$port" &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
while read -r q; do
  case "$q" in ''|'#'*) continue ;; esac
  for mode in keyword semantic hybrid; do
    curl -sf -G "http://127.0.0.1:$port/api/papers/search" --data-urlencode "q=$q" --data-urlencode "mode=$mode" >/dev/null
  done
  curl -sf -G "http://127.0.0.1:$port/search" --data-urlencode "q=$q" >/dev/null
done < bench/search/queries.txt
rss=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")
hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
kill "$pid"; wait "$pid" 2>/dev/null || true
echo
echo "serve after $(grep -cv '^\s*\(#\|$\)' bench/search/queries.txt) queries x 4 requests: RSS ${rss} MiB (peak ${hwm} MiB)"
echo "data directory: $(du -sm "$DIR" | cut -f1) MiB (store $(du -sm "$DIR/paperboy.db" | cut -f1) MiB, index $(du -sm "$DIR/index" | cut -f1) MiB)"

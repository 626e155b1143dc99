#!/usr/bin/env bash
# Compact vectors: the int8 vector index against f32 search in one run
# (crates/search/examples/vector_bench.rs): Recall@10 of graph search and of
# the exact scan against exact f32 search, query latency p50/p99 beside an f32
# graph, memory of vectors and graph (counted and RSS delta), build time.
#
#   bash bench/vectors.sh [SIZES] [QUERIES]      (default 100000,1000000 and 200)
#
# Real vectors: $PAPERBOY_BENCH_VECS (f32 LE rows of 384, e.g. our embedder's
# vectors of recs-dev papers); without it the titles of
# ../shared/data/arxiv/sample-1k.jsonl are embedded here with the model. Sizes
# beyond the real vectors are synthetic, shaped by the real ones (see the
# example's docs). Skips (exit 0) when neither is there. Prints Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="${1:-100000,1000000}"
QUERIES="${2:-200}"
VECS="${PAPERBOY_BENCH_VECS:-}"
DATA="${PAPERBOY_BENCH_SAMPLE:-../shared/data/arxiv/sample-1k.jsonl}"
MODEL="${PAPERBOY_MODEL_DIR:-models/all-MiniLM-L6-v2}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [ -n "$VECS" ] && [ -f "$VECS" ]; then
  SOURCE=(--real "$VECS")
elif [ -f "$DATA" ]; then
  [ -f "$MODEL/model.safetensors" ] || bash scripts/fetch-model.sh
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    print(" ".join(json.loads(line)["title"].split()))
' "$DATA" > "$tmp/titles.txt"
  SOURCE=(--texts "$tmp/titles.txt" --model "$MODEL")
else
  echo "SKIPPED: no real vectors (set PAPERBOY_BENCH_VECS) and $DATA not found (the vector benchmark needs ../shared beside the repository)"
  exit 0
fi
cargo build --release --locked -q --example vector_bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/vector_bench"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BIN" "${SOURCE[@]}" --n "$SIZES" --queries "$QUERIES"

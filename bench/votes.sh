#!/usr/bin/env bash
# Upvote load benchmark: 16, 64 and 256 members vote at once through the JSON
# API on loopback (19,200 requests each run), then every paper's count is
# checked against what the clients did. Prints a Markdown table; a run with a
# lost or double-counted vote exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -q -p paperboy-web --example vote_bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/vote_bench"
first=1
for clients in 16 64 256; do
  out=$("$BIN" "$clients" $((19200 / clients)) 400)
  if [ $first = 1 ]; then echo "$out"; first=0; else echo "$out" | tail -1; fi
done
echo
echo "server: 2 worker threads; clients: 2 threads; one $(nproc)-core machine, load average $(cut -d' ' -f1 /proc/loadavg) at the end"

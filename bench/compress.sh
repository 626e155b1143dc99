#!/usr/bin/env bash
# Compression on cached pages (issue 17 item 5): the demo catalog served by
# BIN (default: the release binary), wrk on `/` and `/feed.atom` with and
# without `Accept-Encoding: gzip, br`. Cache hits send the entry's stored
# brotli bytes, so the compressed rows should not be slower. Prints a
# Markdown table. Needs wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk"; exit 1; }
BIN="${BIN:-${CARGO_TARGET_DIR:-target}/release/paperboy}"
DUR="${DUR:-10s}"
tmp=$(mktemp -d)
"$BIN" --data-dir "$tmp" --log warn demo --no-serve > /dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --data-dir "$tmp" --log warn serve --addr "127.0.0.1:$PORT" > /dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 200); do curl -fs "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.3; done
echo "| path | Accept-Encoding | body | req/s | p50 |"
echo "|---|---|---|---|---|"
for path in / /feed.atom; do
  for enc in identity "gzip, br"; do
    size=$(curl -s -H "Accept-Encoding: $enc" -o /dev/null -w '%{size_download}' "http://127.0.0.1:$PORT$path")
    out=$(wrk -t2 -c32 -d"$DUR" --latency -H "Accept-Encoding: $enc" "http://127.0.0.1:$PORT$path")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    echo "| \`$path\` | $enc | $size B | $rps | $p50 |"
  done
done

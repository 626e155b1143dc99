#!/usr/bin/env bash
# HTTP benchmark: the release binary serves the demo catalog on loopback and
# wrk (Debian package) loads the feed page, a paper page and the JSON API.
# wrk and the server share the machine's cores, so the numbers are a floor.
# Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk"; exit 1; }
DURATION="${DURATION:-15s}"
CONNS="${CONNS:-32}"
cargo build --release --locked -q -p paperboy
BIN="${CARGO_TARGET_DIR:-target}/release/paperboy"
tmp=$(mktemp -d)
"$BIN" --data-dir "$tmp" --log warn demo --no-serve > /dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --data-dir "$tmp" --log warn serve --addr "127.0.0.1:$PORT" > /dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/healthz" > /dev/null && break; sleep 0.1; done
paper=$(curl -fs "http://127.0.0.1:$PORT/api/daily_papers?limit=1" | python3 -c 'import sys,json; print(json.load(sys.stdin)[0]["paper"]["id"])')

echo "| endpoint | requests/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|"
for path in "/" "/papers/week/2026-W26" "/papers/$paper" "/api/daily_papers" "/feed.atom"; do
  out=$(wrk -t2 -c"$CONNS" -d"$DURATION" --latency "http://127.0.0.1:$PORT$path")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
  echo "| \`$path\` | $rps | $p50 | $p99 | ${errs:-0} |"
done
echo
echo "wrk -t2 -c$CONNS -d$DURATION, server and wrk on the same $(nproc)-core machine; RSS of serve: $(ps -o rss= -p $pid | awk '{printf "%d MiB", $1/1024}')"

#!/usr/bin/env bash
# Scale-out benchmark: request throughput of one, two and three `paperboy
# serve` processes on one PostgreSQL database, against one server on SQLite,
# in the same run. The demo catalog (6,707 papers) is imported into both
# databases; each server has its own data directory (its own search index,
# keyword only: no model, so no background embedding skews the numbers).
# wrk loads every server at once (32 connections split between them); the
# table sums their requests per second. Server processes, wrk and PostgreSQL
# share this machine's cores, so more servers cannot add capacity here: the
# numbers show what running several costs or gains on one box, and that the
# database, not Paperboy, is what they share.
#
#   bash bench/scale-out.sh          (needs wrk and PostgreSQL: apt-get install wrk postgresql)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk"; exit 1; }
bash scripts/postgres.sh bindir >/dev/null || { echo "needs PostgreSQL: apt-get install postgresql"; exit 1; }
DURATION="${DURATION:-10s}"
cargo build --release --locked -q -p paperboy
BIN="$PWD/${CARGO_TARGET_DIR:-target}/release/paperboy"
tmp=$(mktemp -d)
pgdir=$(mktemp -d /tmp/paperboy-scale-pg.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  bash "$ROOT/scripts/postgres.sh" stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
URL=$(bash scripts/postgres.sh start "$pgdir")
# Run from an empty directory so that no ./models is found: keyword search only.
cd "$tmp"
export PAPERBOY_LOG=warn
"$BIN" --data-dir "$tmp/sqlite" demo --no-serve > /dev/null
"$BIN" --data-dir "$tmp/pg0" --database-url "$URL" demo --no-serve > /dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_servers N [--database-url URL]: sets PORTS
PORTS=()
start_servers() {
  local n=$1; shift
  PORTS=()
  for i in $(seq "$n"); do
    local port; port=$(free_port)
    local dir="$tmp/server$i"
    [ $# -eq 0 ] && dir="$tmp/sqlite"
    "$BIN" --data-dir "$dir" "$@" serve --addr "127.0.0.1:$port" > /dev/null 2>&1 &
    pids+=($!)
    PORTS+=("$port")
  done
  for port in "${PORTS[@]}"; do
    for _ in $(seq 300); do curl -fs "http://127.0.0.1:$port/healthz" > /dev/null && break; sleep 0.1; done
  done
}

stop_servers() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}

# load PATH PORT...: total requests/s and the worst p99 over all servers
load() {
  local path=$1; shift
  local n=$#
  local conns=$((32 / n))
  local outs=() wrks=()
  for port in "$@"; do
    local out="$tmp/wrk.$port"
    wrk -t1 -c"$conns" -d"$DURATION" --latency "http://127.0.0.1:$port$path" > "$out" &
    wrks+=($!)
    outs+=("$out")
  done
  for w in "${wrks[@]}"; do wait "$w"; done
  local rps p99 errs
  rps=$(cat "${outs[@]}" | awk '/Requests\/sec/ {s+=$2} END {printf "%.0f", s}')
  p99=$(cat "${outs[@]}" | awk '$1=="99%" {print $2}' | sort -h | tail -1)
  errs=$(cat "${outs[@]}" | awk '/Non-2xx|Socket errors/ {print}' | wc -l)
  echo "$rps | $p99 | $errs"
}

start_servers 1
paper=$(curl -fs "http://127.0.0.1:${PORTS[0]}/api/daily_papers?limit=1" | python3 -c 'import sys,json; print(json.load(sys.stdin)[0]["paper"]["id"])')
stop_servers

echo "| setup | path | requests/s (sum) | worst p99 | servers with errors |"
echo "|---|---|---|---|---|"
run() {
  local label=$1; shift
  start_servers "$@"
  for path in "/" "/papers/$paper" "/api/daily_papers"; do
    echo "| $label | \`$path\` | $(load "$path" "${PORTS[@]}") |"
  done
  stop_servers
}
run "1 server, SQLite" 1
run "1 server, PostgreSQL" 1 --database-url "$URL"
run "2 servers, PostgreSQL" 2 --database-url "$URL"
run "3 servers, PostgreSQL" 3 --database-url "$URL"
echo
echo "wrk -t1 per server, 32 connections in all, -d$DURATION; $(nproc) cores shared by servers, wrk and PostgreSQL; load average $(cut -d' ' -f1 /proc/loadavg) at the end"

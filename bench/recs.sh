#!/usr/bin/env bash
# The reference recommenders of issue 16 (arxiv-sanity-lite's tf-idf + SVM,
# the tf-idf centroid, recency) on a recommendation directory, scored as
# `paperboy eval recs DIR` scores ours: nDCG@10, Recall@50, MRR@10.
#
# Usage: bash bench/recs.sh [DIR] [--json]
#   DIR defaults to ../shared/eval/recs-dev; without it the script says so
#   and exits 0 (benchmarks skip without ../shared).
# When a paperboy binary is built ($PAPERBOY_BIN, default
# target/release/paperboy), `paperboy eval recs DIR --json` runs first and
# its rows lead the one table; set PAPERBOY_BIN=none to skip it.
# scikit-learn is installed into .bench-venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-../shared/eval/recs-dev}"
shift || true
if [ ! -f "$DIR/users.jsonl" ]; then
  echo "skipped: no recommendation directory at $DIR (needs papers.jsonl, users.jsonl, candidates.txt)"
  exit 0
fi
VENV=.bench-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c 'import sklearn' 2>/dev/null; then
  "$VENV/bin/pip" install -q 'scikit-learn>=1.5' numpy
fi
BIN="${PAPERBOY_BIN:-target/release/paperboy}"
OURS=()
if [ "$BIN" != none ] && [ -x "$BIN" ]; then
  TMP="$(mktemp -d)"
  trap 'rm -rf "$TMP"' EXIT
  "$BIN" eval recs "$DIR" --json > "$TMP/ours.json"
  OURS=(--ours "$TMP/ours.json")
else
  echo "note: no paperboy binary at $BIN (cargo build --release --bin paperboy); the table has the references only" >&2
fi
"$VENV/bin/python" bench/recs_baseline.py "$DIR" "${OURS[@]}" "$@"

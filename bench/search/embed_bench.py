#!/usr/bin/env python3
"""Embedding throughput of sentence-transformers, the peer of Paperboy's
in-process embedder in bench/embed.sh.

    python3 bench/search/embed_bench.py TEXTS.jsonl MODEL_DIR [--repeat N]

TEXTS.jsonl holds one JSON string per line; MODEL_DIR is the same directory
Paperboy loads (model.safetensors, tokenizer.json, config.json). The pipeline
is all-MiniLM-L6-v2's: BERT with max_seq_length 256, mean pooling, L2
normalisation, batches of 32 (sentence-transformers' default, which sorts
texts by length). Prints one JSON line like the Rust side does.
"""
import json
import sys
import time


def main():
    args = sys.argv[1:]
    repeat = 1
    if "--repeat" in args:
        i = args.index("--repeat")
        repeat = int(args[i + 1])
        del args[i : i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    texts_path, model_dir = args
    import torch
    from sentence_transformers import SentenceTransformer, models

    texts = [json.loads(line) for line in open(texts_path, encoding="utf-8") if line.strip()]
    word = models.Transformer(model_dir, max_seq_length=256)
    pool = models.Pooling(word.get_word_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(modules=[word, pool, models.Normalize()], device="cpu")
    model.encode(texts[:16], batch_size=32)  # warm-up
    best = float("inf")
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        vecs = model.encode(texts, batch_size=32)
        best = min(best, time.perf_counter() - start)
        assert len(vecs) == len(texts)
    print(json.dumps({
        "engine": f"sentence-transformers (torch {torch.__version__})",
        "texts": len(texts),
        "seconds": best,
        "texts_per_s": len(texts) / best,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()

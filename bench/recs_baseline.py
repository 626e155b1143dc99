#!/usr/bin/env python3
"""The reference recommenders for `paperboy eval recs` (issue 16): the
arxiv-sanity-lite method and two simple ones, scored on a recommendation
directory exactly as `paperboy eval recs DIR` scores ours.

The directory holds `papers.jsonl` (Kaggle arXiv snapshot lines),
`users.jsonl` (`{"user", "liked", "relevant"}`) and `candidates.txt` (one id
per line). For every user the methods train on `liked` only and rank every
candidate that is not liked; the metrics, averaged over users, are nDCG@10
with binary gain (ideal DCG over min(|relevant|, 10)), Recall@50 and MRR@10.

Methods:
- `svm`: arxiv-sanity-lite. tf-idf over "title abstract authors"
  (word 1-2 grams, 20,000 features, sublinear tf, English stop words,
  max_df=0.1, min_df=5, fitted on every paper of the directory) and, per
  user, LinearSVC(C=0.01, class_weight="balanced") trained with the liked
  papers as positives and all other papers as negatives; candidates ranked
  by the decision function.
- `tfidf-centroid`: cosine to the mean tf-idf vector of the liked papers.
- `recency`: newest candidate first (by id, which orders arXiv ids by
  month and number).

With `--ours FILE` (the output of `paperboy eval recs DIR --json`), the
table starts with Paperboy's rows, so both sides are read in one table
(bench/recs.sh does this when a paperboy binary is built).

Usage: python3 bench/recs_baseline.py DIR [--json] [--ours FILE]
Needs scikit-learn and numpy (bench/recs.sh installs them in .bench-venv).
"""

import argparse
import json
import math
import sys
from pathlib import Path


def load(directory):
    papers = {}
    order = []
    with open(directory / "papers.jsonl", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                p = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"papers.jsonl line {lineno}: skipped, not JSON ({e})", file=sys.stderr)
                continue
            pid = p.get("id")
            if not pid:
                print(f"papers.jsonl line {lineno}: skipped, no id", file=sys.stderr)
                continue
            authors = p.get("authors") or ""
            text = " ".join([p.get("title") or "", p.get("abstract") or "", authors])
            papers[pid] = text
            order.append(pid)
    users = []
    with open(directory / "users.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                users.append(json.loads(line))
    candidates = [c.strip() for c in (directory / "candidates.txt").read_text().split() if c.strip()]
    return papers, order, users, candidates


def metrics(ranking, relevant):
    relevant = set(relevant)
    if not relevant:
        return None
    dcg = sum(1.0 / math.log2(i + 2) for i, pid in enumerate(ranking[:10]) if pid in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    recall = len(relevant.intersection(ranking[:50])) / len(relevant)
    mrr = 0.0
    for i, pid in enumerate(ranking[:10]):
        if pid in relevant:
            mrr = 1.0 / (i + 1)
            break
    return dcg / ideal, recall, mrr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--json", action="store_true", help="print the table as JSON")
    ap.add_argument("--ours", type=Path, help="`paperboy eval recs DIR --json` output to put first")
    args = ap.parse_args()

    import numpy as np
    import sklearn
    from sklearn import svm
    from sklearn.feature_extraction.text import TfidfVectorizer

    papers, order, users, candidates = load(args.dir)
    missing = [c for c in candidates if c not in papers]
    if missing:
        print(f"{len(missing)} candidates are not in papers.jsonl; they rank last", file=sys.stderr)
    index = {pid: i for i, pid in enumerate(order)}
    vectorizer = TfidfVectorizer(
        input="content",
        strip_accents="unicode",
        lowercase=True,
        analyzer="word",
        stop_words="english",
        token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b",
        ngram_range=(1, 2),
        max_features=20000,
        norm="l2",
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=True,
        max_df=0.1,
        min_df=5,
    )
    x = vectorizer.fit_transform([papers[pid] for pid in order])
    cand_rows = np.array([index[c] for c in candidates if c in index])
    cand_ids = [c for c in candidates if c in index]

    def ranked(scores, liked):
        pairs = [(s, pid) for s, pid in zip(scores, cand_ids) if pid not in liked]
        pairs.sort(key=lambda t: (-t[0], t[1]))
        return [pid for _, pid in pairs]

    methods = {"svm": [], "tfidf-centroid": [], "recency": []}
    for user in users:
        liked = set(user["liked"])
        rows = [index[p] for p in user["liked"] if p in index]
        if not rows:
            continue
        y = np.zeros(x.shape[0])
        y[rows] = 1
        clf = svm.LinearSVC(class_weight="balanced", max_iter=10000, tol=1e-6, C=0.01)
        clf.fit(x, y)
        svm_scores = clf.decision_function(x[cand_rows])
        centroid = np.asarray(x[rows].mean(axis=0)).ravel()
        norm = np.linalg.norm(centroid)
        cent_scores = x[cand_rows] @ (centroid / norm if norm else centroid)
        recency = [float(pid.replace(".", "")) if pid.replace(".", "").isdigit() else 0.0 for pid in cand_ids]
        for name, scores in (("svm", svm_scores), ("tfidf-centroid", cent_scores), ("recency", recency)):
            m = metrics(ranked(list(scores), liked), user["relevant"])
            if m is not None:
                methods[name].append(m)

    table = []
    if args.ours:
        for row in json.loads(args.ours.read_text())["methods"]:
            table.append({k: row[k] for k in ("method", "users", "ndcg@10", "recall@50", "mrr@10")})
    for name, rows in methods.items():
        n = len(rows)
        table.append(
            {
                "method": name,
                "users": n,
                "ndcg@10": sum(r[0] for r in rows) / n,
                "recall@50": sum(r[1] for r in rows) / n,
                "mrr@10": sum(r[2] for r in rows) / n,
            }
        )
    if args.json:
        print(json.dumps({"scikit-learn": sklearn.__version__, "methods": table}, indent=2))
    else:
        print(f"scikit-learn {sklearn.__version__}, {len(users)} users, {len(cand_ids)} candidates")
        w = max(16, *(len(r["method"]) for r in table))
        print(f"{'method':<{w}} {'users':>5} {'nDCG@10':>8} {'Recall@50':>9} {'MRR@10':>7}")
        for r in table:
            print(f"{r['method']:<{w}} {r['users']:>5} {r['ndcg@10']:>8.4f} {r['recall@50']:>9.4f} {r['mrr@10']:>7.4f}")


if __name__ == "__main__":
    main()

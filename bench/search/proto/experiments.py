"""The issue-18 ranking experiments, run on `dump` outputs (see README.md).

    python3 experiments.py passages DUMP            # first vector vs passages (max, soft maximum)
    python3 experiments.py windows DUMP NAME        # paper = max over NAME's vectors (win64, win128, sent1, ...)
    python3 experiments.py bm25 DUMP                # BM25 k1 / b / title weight grid
    python3 experiments.py maxp DUMP                # keyword side: best window's BM25 beside the paper's
    python3 experiments.py prf DUMP                 # semantic query moved towards the fused top k (Rocchio)
    python3 experiments.py learned DUMP [NAME ...]  # logistic-regression fusion, 5-fold over queries
    python3 experiments.py adaptive SCIFACT SHORT NAME   # keyword weight by query length, both sets
    python3 experiments.py bootstrap DUMP NAME      # 95% intervals of that configuration's gain over the baseline

Every figure is nDCG@10 as `paperboy eval beir` computes it; "hybrid" is the
engine's completed max-normalised blend (lib.blend).
"""
import json
import sys

import numpy as np

from lib import Dump, blend, mean_ndcg, ndcg10, topk_mask


def best_of(d, name):
    """(queries x docs) max cosine over the vectors `name` (with owners)."""
    wv = np.fromfile(f"{d.path}/{name}.f32", dtype="<f4").reshape(-1, d.dvec.shape[1])
    wo = np.array(json.load(open(f"{d.path}/{name}_owner.json")))
    m = np.full((len(d.queries), len(d.docs)), -1.0, dtype=np.float32)
    np.maximum.at(m.T, wo, (d.qvec @ wv.T).T)
    return m


def hybrid_row(d, c, weights=(0.25, 0.3, 0.35, 0.4)):
    out = []
    for w in weights:
        f, m = blend(d.kw, c, w)
        out.append(f"w={w}: {mean_ndcg(f, d, m):.4f}")
    return f"semantic {mean_ndcg(c, d):.4f} | hybrid " + ", ".join(out)


def cmd_passages(path):
    d = Dump(path)
    print("first vector       ", hybrid_row(d, d.cos_first()))
    print("passages, max      ", hybrid_row(d, d.cos_passages(mode="max")))
    print("passages, soft max ", hybrid_row(d, d.cos_passages()))
    mean = d.dvec.copy()
    np.add.at(mean, d.owner, d.pvec)
    mean /= np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-9)
    print("normalised mean    ", hybrid_row(d, d.qvec @ mean.T))


def cmd_windows(path, name):
    d = Dump(path)
    cf = d.cos_first()
    w = best_of(d, name)
    print(f"{name} max          ", hybrid_row(d, w))
    print(f"max(first, {name})  ", hybrid_row(d, np.maximum(cf, w)))


def cmd_bm25(path):
    d = Dump(path)
    cs = d.cos_passages()
    print("engine BM25 (tantivy k1 1.2, b 0.75, title 0.5): keyword", f"{mean_ndcg(d.kw, d):.4f}")
    for k1 in (0.6, 0.9, 1.2, 1.6):
        for b in (0.4, 0.6, 0.75, 0.9):
            for tw in (0.3, 0.5):
                kw = d.bm25(k1, b, tw)
                f, m = blend(kw, cs)
                print(f"k1 {k1} b {b} title {tw}: keyword {mean_ndcg(kw, d):.4f} hybrid {mean_ndcg(f, d, m):.4f}")


def cmd_maxp(path):
    d = Dump(path)
    kw, cf = d.kw, d.cos_first()
    n, q = len(d.docs), len(d.queries)
    kmax = kw.max(axis=1, keepdims=True)
    kmax[kmax <= 0] = 1
    for size, step in ((32, 24), (48, 36), (64, 48)):
        wd, owner = [], []
        for i, doc in enumerate(d.docs):
            a, s = doc["abstract"], 0
            while True:
                wd.append({"title": doc["title"], "abstract": a[s:s + size]})
                owner.append(i)
                if s + size >= len(a):
                    break
                s += step
        sub = Dump.__new__(Dump)
        sub.docs, sub.queries, sub._vocab, sub._fields = wd, d.queries, {}, {}
        ws = sub.bm25()
        mp = np.zeros((q, n), dtype=np.float32)
        np.maximum.at(mp.T, np.array(owner), ws.T)
        mpn = mp / np.maximum(mp.max(1, keepdims=True), 1e-6)
        mask = (topk_mask(kw, 100) & (kw > 0)) | topk_mask(cf, 100) | topk_mask(mp, 100)
        for a in (0.0, 0.3, 0.5):
            k = (1 - a) * kw / kmax + a * mpn
            print(f"windows of {size} terms, share {a}: hybrid {mean_ndcg(0.35 * k + 0.65 * np.maximum(cf, 0), d, mask):.4f}")


def cmd_prf(path):
    d = Dump(path)
    cs = d.cos_passages()
    f, m = blend(d.kw, cs)
    order = np.argsort(-np.where(m, f, -np.inf), axis=1)
    print(f"no feedback: hybrid {mean_ndcg(f, d, m):.4f}")
    for k in (1, 3, 5, 10):
        for beta in (0.25, 0.5, 1.0):
            q2 = d.qvec + beta * d.dvec[order[:, :k]].mean(axis=1)
            q2 /= np.linalg.norm(q2, axis=1, keepdims=True)
            c2 = d.cos_passages(qv=q2)
            f2, m2 = blend(d.kw, c2)
            print(f"top {k}, beta {beta}: semantic {mean_ndcg(c2, d):.4f} hybrid {mean_ndcg(f2, d, m2 | m):.4f}")


def cmd_learned(path, names):
    from sklearn.linear_model import LogisticRegression

    d = Dump(path)
    n, q = len(d.docs), len(d.queries)
    kw, cf = d.kw, d.cos_first()
    kmax = kw.max(axis=1, keepdims=True)
    kmax[kmax <= 0] = 1
    feats = {"bm25/max": kw / kmax, "cos first": cf, "cos passages": d.cos_passages()}
    for name in names:
        feats[name] = best_of(d, name)
    mask = (topk_mask(kw, 100) & (kw > 0)) | topk_mask(cf, 100)
    y = np.zeros((q, n))
    for qi, qr in enumerate(d.qrels):
        for i, g in qr.items():
            y[qi, i] = g
    folds = np.random.default_rng(0).integers(0, 5, q)
    x = np.stack(list(feats.values()), axis=-1)
    out = np.full((q, n), -np.inf, dtype=np.float32)
    for f in range(5):
        tr = (folds != f)[:, None] & mask
        lr = LogisticRegression(max_iter=2000, class_weight="balanced").fit(x[tr], y[tr] > 0)
        out[folds == f] = x[folds == f] @ lr.coef_[0]
    print(f"learned fusion over {list(feats)}: hybrid {mean_ndcg(out, d, mask):.4f}")
    print(f"fixed blend 0.35 (same candidates): {mean_ndcg(0.35 * kw / kmax + 0.65 * np.maximum(cf, 0), d, mask):.4f}")


def cmd_adaptive(scifact, short, name):
    sets = []
    for p in (scifact, short):
        d = Dump(p)
        sets.append((d, np.maximum(d.cos_first(), best_of(d, name))))
    for limit in (3, 4, 5, 6):
        for ws, wl in ((0.35, 0.35), (0.4, 0.3), (0.5, 0.3), (0.5, 0.35)):
            row = []
            for d, c in sets:
                ql = np.array([len(x["tokens"]) for x in d.queries])
                w = np.where(ql <= limit, ws, wl)[:, None]
                kmax = d.kw.max(axis=1, keepdims=True)
                kmax[kmax <= 0] = 1
                mask = (topk_mask(d.kw, 100) & (d.kw > 0)) | topk_mask(c, 100)
                row.append(mean_ndcg(w * d.kw / kmax + (1 - w) * np.maximum(c, 0), d, mask))
            print(f"{name}: w {ws} up to {limit} terms, {wl} above: SciFact {row[0]:.4f} short set {row[1]:.4f}")


def per_query(d, scores, mask):
    out = []
    for qi in range(len(d.queries)):
        s = np.where(mask[qi], scores[qi], -np.inf)
        top = np.argsort(-s, kind="stable")[:10]
        out.append(ndcg10([t for t in top if np.isfinite(s[t])], d.qrels[qi]))
    return np.array(out)


def cmd_bootstrap(path, name):
    """Paired bootstrap over queries: the engine's blend on the first vector
    against max(first, NAME) with the query-length keyword weight (0.5 up to
    5 terms, 0.3 above)."""
    d = Dump(path)
    cf = d.cos_first()
    c = np.maximum(cf, best_of(d, name))
    f0, m0 = blend(d.kw, cf, 0.35)
    base = per_query(d, f0, m0)
    ql = np.array([len(x["tokens"]) for x in d.queries])
    w = np.where(ql <= 5, 0.5, 0.3)[:, None]
    kmax = d.kw.max(axis=1, keepdims=True)
    kmax[kmax <= 0] = 1
    m1 = (topk_mask(d.kw, 100) & (d.kw > 0)) | topk_mask(c, 100)
    new = per_query(d, w * d.kw / kmax + (1 - w) * np.maximum(c, 0), m1)
    idx = np.random.default_rng(1).integers(0, len(base), (5000, len(base)))
    lo, hi = np.percentile(new[idx].mean(1), [2.5, 97.5])
    glo, ghi = np.percentile((new - base)[idx].mean(1), [2.5, 97.5])
    print(f"baseline {base.mean():.4f}, with {name} {new.mean():.4f} (95%: {lo:.4f}-{hi:.4f}); gain 95%: {glo:+.4f} to {ghi:+.4f}")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {
        "passages": lambda: cmd_passages(*args),
        "windows": lambda: cmd_windows(*args),
        "bm25": lambda: cmd_bm25(*args),
        "maxp": lambda: cmd_maxp(*args),
        "prf": lambda: cmd_prf(*args),
        "learned": lambda: cmd_learned(args[0], args[1:]),
        "adaptive": lambda: cmd_adaptive(*args),
        "bootstrap": lambda: cmd_bootstrap(*args),
    }[cmd]()

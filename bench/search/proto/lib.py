"""Loading a `dump` example output and scoring rankings in numpy (issue 18).

The dump (crates/search/examples/dump.rs) holds each document's analysed
title/abstract tokens and vectors and each query's tokens, vector, keyword
top 1,000 and judgements. These helpers recompute BM25 with any parameters,
cosine scores (first passage or a soft maximum over passages), the engine's
completed max-normalised blend, and nDCG@10 as `paperboy eval beir` does.
"""
import json
import math
import os

import numpy as np
import scipy.sparse as sp


class Dump:
    def __init__(self, path):
        self.path = path
        self.docs = [json.loads(l) for l in open(os.path.join(path, "docs.jsonl"))]
        self.queries = [json.loads(l) for l in open(os.path.join(path, "queries.jsonl"))]
        n = len(self.docs)
        self.dvec = np.fromfile(os.path.join(path, "doc_vecs.f32"), dtype="<f4").reshape(n, -1)
        self.qvec = np.fromfile(os.path.join(path, "query_vecs.f32"), dtype="<f4").reshape(len(self.queries), -1)
        pfile = os.path.join(path, "passages.f32")
        if os.path.exists(pfile):
            owner = os.path.join(path, "passages_owner.json")
            if not os.path.exists(owner):  # dumps written before the name was unified
                owner = os.path.join(path, "passage_owner.json")
            self.owner = np.array(json.load(open(owner)), dtype=np.int64)
            self.pvec = np.fromfile(pfile, dtype="<f4").reshape(len(self.owner), -1)
        else:
            self.owner = np.zeros(0, dtype=np.int64)
            self.pvec = np.zeros((0, self.dvec.shape[1]), dtype=np.float32)
        self.ids = [d["id"] for d in self.docs]
        self.index = {d: i for i, d in enumerate(self.ids)}
        self.qrels = [{self.index[k]: v for k, v in q["qrels"].items() if k in self.index} for q in self.queries]
        self.kw = []
        for q in self.queries:
            s = np.zeros(n, dtype=np.float32)
            for i, v in q["kw"]:
                s[i] = v
            self.kw.append(s)
        self.kw = np.array(self.kw)
        self._vocab = {}
        self._fields = {}

    # --- keyword side -------------------------------------------------
    def field_matrix(self, field):
        """(docs x terms) term-frequency matrix of one field."""
        if field not in self._fields:
            rows, cols, vals = [], [], []
            for i, d in enumerate(self.docs):
                counts = {}
                for t in d[field]:
                    j = self._vocab.setdefault(t, len(self._vocab))
                    counts[j] = counts.get(j, 0) + 1
                for j, c in counts.items():
                    rows.append(i); cols.append(j); vals.append(c)
            self._fields[field] = (rows, cols, vals)
        rows, cols, vals = self._fields[field]
        m = sp.csr_matrix((vals, (rows, cols)), shape=(len(self.docs), 1 << 20), dtype=np.float32)
        return m

    def bm25(self, k1=1.2, b=0.75, title=0.5, stop=frozenset(), dedup=False):
        """(queries x docs) BM25 summed over title (weighted) and abstract,
        each field with its own statistics, as tantivy scores a Should of
        per-field term queries."""
        out = np.zeros((len(self.queries), len(self.docs)), dtype=np.float32)
        for field, w in (("title", title), ("abstract", 1.0)):
            if w == 0:
                continue
            tf = self.field_matrix(field).tocsc()
            lens = np.asarray(tf.sum(axis=1)).ravel()
            avg = lens.mean() if lens.mean() > 0 else 1.0
            df = np.diff(tf.indptr)
            n = len(self.docs)
            norm = k1 * (1 - b + b * lens / avg)
            for qi, q in enumerate(self.queries):
                toks = [t for t in q["tokens"] if t not in stop]
                if dedup:
                    toks = list(dict.fromkeys(toks))
                for t in toks:
                    j = self._vocab.get(t)
                    if j is None or df[j] == 0:
                        continue
                    idf = math.log(1 + (n - df[j] + 0.5) / (df[j] + 0.5))
                    lo, hi = tf.indptr[j], tf.indptr[j + 1]
                    r = tf.indices[lo:hi]
                    f = tf.data[lo:hi]
                    out[qi, r] += w * idf * f * (k1 + 1) / (f + norm[r])
        return out

    # --- semantic side ------------------------------------------------
    def cos_first(self, qv=None):
        qv = self.qvec if qv is None else qv
        return qv @ self.dvec.T

    def cos_passages(self, temp=0.05, qv=None, mode="softmax"):
        """(queries x docs) passage-aggregated cosines: the first passage
        and the later ones, as a soft maximum (temperature `temp`) or max."""
        qv = self.qvec if qv is None else qv
        first = qv @ self.dvec.T
        if len(self.owner) == 0:
            return first
        pc = qv @ self.pvec.T
        if mode == "max":
            out = first.copy()
            np.maximum.at(out.T, self.owner, pc.T)
            return out
        m = first.copy()
        np.maximum.at(m.T, self.owner, pc.T)
        z = np.exp((first - m) / temp)
        cnt = np.ones(len(self.docs))
        np.add.at(cnt, self.owner, 1)
        zz = z.T.copy()
        np.add.at(zz, self.owner, np.exp((pc - m[:, self.owner]) / temp).T)
        return m + temp * np.log(zz.T / cnt)


def ndcg10(ranking, qrels):
    dcg = sum(qrels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:10]))
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def mean_ndcg(scores, dump, mask=None):
    """nDCG@10 of (queries x docs) scores; `mask` (queries x docs, bool)
    limits each ranking to its candidates."""
    tot = 0.0
    for qi in range(len(dump.queries)):
        s = scores[qi] if mask is None else np.where(mask[qi], scores[qi], -np.inf)
        top = np.argpartition(-s, 10)[:10]
        top = top[np.argsort(-s[top], kind="stable")]
        top = [t for t in top if np.isfinite(s[t])]
        tot += ndcg10(top, dump.qrels[qi])
    return tot / len(dump.queries)


def topk_mask(s, k):
    """(queries x docs) True on each query's `k` highest scores."""
    idx = np.argpartition(-s, k, axis=1)[:, :k]
    m = np.zeros_like(s, dtype=bool)
    np.put_along_axis(m, idx, True, axis=1)
    return m


def blend(kw, cos, w=0.35, depth=100):
    """The engine's completed blend: candidates are the top `depth` of each
    side (keyword candidates need a positive score), each with both scores;
    `w * kw / max(kw) + (1 - w) * max(cos, 0)`."""
    kmask = topk_mask(kw, depth) & (kw > 0)
    smask = topk_mask(cos, depth)
    mask = kmask | smask
    kmax = kw.max(axis=1, keepdims=True)
    kmax[kmax <= 0] = 1
    fused = w * kw / kmax + (1 - w) * np.maximum(cos, 0)
    return fused, mask

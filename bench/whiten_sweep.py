#!/usr/bin/env python3
"""Within-class whitening ridge sweep (docs/QUALITY.md, "Within-class whitening").

Fits the map W = chol(Sw + ridge * trace(Sw)/d * I)^-1 on DIR/train_* (as
lib/model/whiten.c does), then clusters DIR/test_* with a NumPy re-implementation
of the library's unsupervised decode (shared-neighbour score, k = 10,
density = mean snn, tau 0.45, one level) and linkage merge (1.2), and prints
kNN purity, link AUCs and pairwise F / BCubed F / NMI for each ridge, plus
the variant that centres the features first.  Needs numpy only; run it on
class splits of the training data (bench/split_classes.py), never to choose
anything on a test split.

usage: /usr/bin/python3 bench/whiten_sweep.py DIR
"""
import math
import sys
from collections import Counter

import numpy as np

K, TAU, MERGE = 10, 0.45, 1.2


def norm(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def graph(x):
    s = x @ x.T
    idx = np.argsort(-s, axis=1, kind="stable")[:, :K]
    sim = np.take_along_axis(s, idx, 1)
    n = len(x)
    member = np.zeros((n, n), dtype=np.float32)
    member[np.repeat(np.arange(n), K), idx.ravel()] = 1
    snn = np.take_along_axis(member @ member.T, idx, 1) / K
    return idx, sim, snn


def decode(idx, snn):
    n = len(idx)
    dens = snn[:, 1:].mean(1)
    parent = np.arange(n)
    for i in range(n):
        best, bs = -1, -1.0
        for c in range(1, K):
            j = idx[i, c]
            if dens[j] > dens[i] and snn[i, c] > TAU and snn[i, c] > bs:
                best, bs = j, snn[i, c]
        if best >= 0:
            parent[i] = best
    lab = parent.copy()
    for _ in range(64):
        lab = parent[lab]
    return np.unique(lab, return_inverse=True)[1]


def merge(idx, snn, inv):
    n = len(idx)
    C = inv.max() + 1
    size = np.bincount(inv).astype(float)
    a = inv[np.repeat(np.arange(n), K - 1)]
    b = inv[idx[:, 1:].ravel()]
    w = snn[:, 1:].ravel()
    keep = a != b
    lo, hi, w = np.minimum(a, b)[keep], np.maximum(a, b)[keep], w[keep]
    key, ki = np.unique(lo * C + hi, return_inverse=True)
    link = np.bincount(ki, w) / np.sqrt(size[key // C] * size[key % C])
    par = np.arange(C)

    def find(c):
        while par[c] != c:
            par[c] = par[par[c]]
            c = par[c]
        return c

    for k_, v in zip(key, link):
        if v > MERGE:
            ra, rb = find(k_ // C), find(k_ % C)
            if ra != rb:
                par[max(ra, rb)] = min(ra, rb)
    return np.array([find(c) for c in range(C)])[inv]


def metrics(y, p):
    n = len(y)
    cells, G, P = Counter(zip(y, p)), Counter(y), Counter(p)
    tk = sum(v * v for v in cells.values()) - n
    pk = sum(v * v for v in P.values()) - n
    qk = sum(v * v for v in G.values()) - n
    pr, rc = (tk / pk if pk else 1.0), tk / qk
    fp = 2 * pr * rc / (pr + rc) if pr + rc else 0.0
    bp = sum(v * v / P[q] for (g, q), v in cells.items()) / n
    br = sum(v * v / G[g] for (g, q), v in cells.items()) / n
    fb = 2 * bp * br / (bp + br)
    H = lambda c: -sum(v / n * math.log(v / n) for v in c.values())
    mi = sum(v / n * math.log(v * n / (G[g] * P[q])) for (g, q), v in cells.items())
    return fp, fb, mi / ((H(G) + H(P)) / 2)


def auc(score, label):
    r = np.argsort(np.argsort(score)) + 1
    npos = label.sum()
    return (r[label].sum() - npos * (npos + 1) / 2) / (npos * (len(label) - npos))


def report(tag, z, y):
    idx, sim, snn = graph(norm(z.astype(np.float32)))
    same = (y[idx[:, 1:]] == y[:, None]).ravel()
    lab = np.unique(merge(idx, snn, decode(idx, snn)), return_inverse=True)[1]
    print("%-24s purity %.3f  cosine AUC %.3f  snn AUC %.3f  F_pair %.3f  F_bcubed %.3f  NMI %.3f  clusters %d"
          % ((tag, same.mean(), auc(sim[:, 1:].ravel(), same), auc(snn[:, 1:].ravel(), same))
             + metrics(y, lab) + (lab.max() + 1,)), flush=True)


def main():
    d_ = sys.argv[1]
    xtr = np.load(d_ + "/train_features.npy").astype(np.float64)
    ytr = np.load(d_ + "/train_labels.npy")
    xte = np.load(d_ + "/test_features.npy").astype(np.float64)
    yte = np.load(d_ + "/test_labels.npy")
    xtr, xte = norm(xtr), norm(xte)
    d = xtr.shape[1]
    Sw = np.zeros((d, d))
    used = 0
    for c in np.unique(ytr):
        xc = xtr[ytr == c]
        if len(xc) >= 2:
            Sw += (xc - xc.mean(0)).T @ (xc - xc.mean(0))
            used += len(xc)
    Sw /= used
    mu = xtr.mean(0)
    report("raw", xte, yte)
    for ridge in (0.01, 0.1, 0.3, 1.0, 3.0):
        W = np.linalg.inv(np.linalg.cholesky(Sw + ridge * np.trace(Sw) / d * np.eye(d)))
        report("ridge %.2f" % ridge, xte @ W.T, yte)
        report("ridge %.2f, centred" % ridge, (xte - mu) @ W.T, yte)


if __name__ == "__main__":
    main()

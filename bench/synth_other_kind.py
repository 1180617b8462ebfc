#!/usr/bin/env python3
"""A labelled embedding set "of another kind" than Omniglot, for checking
that defaults chosen by validation carry over (docs/QUALITY.md): 256-d,
400 train and 400 disjoint test classes, long-tailed class sizes 4-80,
anisotropic classes grouped under 40 related super-classes.  Needs numpy
(Debian: python3-numpy).

usage: synth_other_kind.py SEED OUTDIR   (writes OUTDIR/{train,test}_{features,labels}.npy)
"""
import os
import sys

import numpy as np

rng = np.random.RandomState(int(sys.argv[1]))
out = sys.argv[2]
os.makedirs(out, exist_ok=True)
D = 256


def make(ncls, supers):
    sc = rng.randn(supers, D)
    sc /= np.linalg.norm(sc, axis=1, keepdims=True)
    xs, ys = [], []
    for c in range(ncls):
        s = sc[rng.randint(supers)]
        cen = s + 0.9 * rng.randn(D) / np.sqrt(D)
        cen /= np.linalg.norm(cen)
        m = int(np.clip(rng.pareto(1.2) * 8 + 4, 4, 80))
        basis = rng.randn(4, D) / np.sqrt(D)  # a few strong directions per class
        pts = cen + 0.55 * rng.randn(m, D) / np.sqrt(D) + (rng.randn(m, 4) * 0.6) @ basis
        xs.append(pts)
        ys += [c] * m
    x = np.concatenate(xs).astype(np.float32)
    y = np.array(ys, dtype=np.int64)
    p = rng.permutation(len(y))
    return x[p], y[p]


for split in ("train", "test"):
    x, y = make(400, 40)
    np.save(os.path.join(out, split + "_features.npy"), x)
    np.save(os.path.join(out, split + "_labels.npy"), y)
    print(split, x.shape)

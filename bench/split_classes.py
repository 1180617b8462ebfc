#!/usr/bin/env python3
"""Split a labelled .npy feature set by CLASS into a training part and a
held-out validation part (seeded), for choosing settings without the test
split.  Needs numpy (Debian: python3-numpy).

usage: split_classes.py FEATURES.npy LABELS.npy OUTDIR [--val-fraction 0.2] [--seed 7]
writes OUTDIR/{tr_x,tr_y,va_x,va_y}.npy
"""
import argparse
import os

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("features")
ap.add_argument("labels")
ap.add_argument("outdir")
ap.add_argument("--val-fraction", type=float, default=0.2)
ap.add_argument("--seed", type=int, default=7)
a = ap.parse_args()
x = np.load(a.features)
y = np.load(a.labels)
classes = np.unique(y)
rng = np.random.RandomState(a.seed)
held = set(rng.permutation(classes)[: int(round(a.val_fraction * len(classes)))].tolist())
m = np.array([c in held for c in y])
os.makedirs(a.outdir, exist_ok=True)
for name, arr in (("tr_x", x[~m]), ("tr_y", y[~m]), ("va_x", x[m]), ("va_y", y[m])):
    np.save(os.path.join(a.outdir, name + ".npy"), arr)
print(f"train {int((~m).sum())} points, validation {int(m.sum())} points ({len(held)} classes)")

#!/usr/bin/python3
"""Train Hi-LANDER on the bundled Omniglot train split, cluster the unseen
test split, print the scores and save a plot of the cluster sizes.

usage: omniglot.py [--data DIR] [--epochs N] [--threads T] [--model-out M.hlm] [--plot sizes.png]

Needs the hilander package (python/) with libhilander.so.0 on the loader
path or HILANDER_LIBRARY set, and matplotlib (Debian: python3-matplotlib).
"""
import argparse
import os
import sys
import time

import numpy as np

import hilander

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(HERE, "..", "..", "data", "omniglot"))
    ap.add_argument("--epochs", type=int, default=None, help="default: the library's automatic schedule")
    ap.add_argument("--threads", type=int, default=None, help="default: all cores")
    ap.add_argument("--model-out", default=None, help="also save the trained model")
    ap.add_argument("--plot", default="omniglot_clusters.png")
    args = ap.parse_args()

    def load(split):
        return (np.load(os.path.join(args.data, split + "_features.npy")),
                np.load(os.path.join(args.data, split + "_labels.npy")))

    (x_train, y_train), (x_test, y_test) = load("train"), load("test")
    print("libhilander %s from %s" % (hilander.library_version(), hilander.library_path()))
    print("train: %d x %d features, %d classes" % (x_train.shape + (len(np.unique(y_train)),)))

    t0 = time.perf_counter()

    def progress(p):
        if p["step"] % 25 == 0 or p["step"] == p["total_steps"]:
            print("  step %d/%d  loss %.4f" % (p["step"], p["total_steps"], p["loss"]), file=sys.stderr)

    model = hilander.train(x_train, y_train, epochs=args.epochs, threads=args.threads, progress=progress)
    print("trained in %.1f s: %r (levels %d, merge %g)" % (time.perf_counter() - t0, model, model.levels,
                                                          model.merge))
    if args.model_out:
        model.save(args.model_out)

    t0 = time.perf_counter()
    result = hilander.cluster(x_test, model, threads=args.threads)
    print("clustered %d unseen test points in %.2f s: %d clusters (%d true classes), %d level(s)"
          % (len(x_test), time.perf_counter() - t0, result.num_clusters, len(np.unique(y_test)), result.levels))
    scores = hilander.evaluate(result.labels, y_test)
    print("pairwise F %.3f  BCubed F %.3f  NMI %.3f" % (scores["pairwise_f"], scores["bcubed_f"], scores["nmi"]))
    baseline = hilander.evaluate(hilander.cluster(x_test, threads=args.threads).labels, y_test)
    print("unsupervised baseline: pairwise F %.3f  BCubed F %.3f  NMI %.3f"
          % (baseline["pairwise_f"], baseline["bcubed_f"], baseline["nmi"]))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = np.bincount(result.labels)
    true_sizes = np.bincount(np.unique(y_test, return_inverse=True)[1])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    top = max(sizes.max(), true_sizes.max())
    bins = np.arange(1, top + 2) - 0.5
    ax1.hist([sizes, true_sizes], bins=bins, label=["Hi-LANDER clusters", "true classes"])
    ax1.set_xlabel("cluster size (points)")
    ax1.set_ylabel("clusters")
    ax1.set_yscale("log")
    ax1.legend()
    ax1.set_title("Omniglot test: cluster sizes")
    counts = [s["num_clusters"] for s in result.level_stats]
    ax2.plot(range(len(counts) + 1), [len(x_test)] + counts, marker="o")
    ax2.axhline(len(true_sizes), color="grey", linestyle="--", label="true classes")
    ax2.set_xticks(range(len(counts) + 1))
    ax2.set_xlabel("levels run")
    ax2.set_ylabel("clusters")
    ax2.set_yscale("log")
    ax2.legend()
    ax2.set_title("clusters after each level")
    fig.tight_layout()
    fig.savefig(args.plot, dpi=100)
    print("plot saved to %s" % args.plot)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Plot validation link AUC over SGD steps from a bench_train --csv file.

usage: /usr/bin/python3 bench/plot_auc.py RUNS.csv OUT.png [TAG ...]

The CSV has one line per evaluation:
tag,step,loss,train_auc,val_auc,val_ap,val_l0_auc,val_l0_ap,best,seconds
(written by `bench_train --csv RUNS.csv --tag NAME`).  Without TAGs every run
in the file is drawn.  Solid lines: link AUC on the validation classes'
level-0 k = 10 graph (the checkpoint-selection metric); dashed: pooled over
all validation graphs; dotted: training edges.  Optional horizontal anchors
are read from lines "#anchor,NAME,VALUE" in the CSV.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, out, tags = argv[1], argv[2], argv[3:]
    runs, anchors = {}, []
    with open(path, newline="") as f:
        for row in csv.reader(f):
            if not row or row[0] == "tag":
                continue
            if row[0] == "#anchor":
                anchors.append((row[1], float(row[2])))
                continue
            if tags and row[0] not in tags:
                continue
            runs.setdefault(row[0], []).append(row)
    if not runs:
        print("no runs found in %s" % path, file=sys.stderr)
        return 1
    fig, ax = plt.subplots(figsize=(8, 5))
    for i, (tag, rows) in enumerate(runs.items()):
        color = "C%d" % i
        step = [int(r[1]) for r in rows]
        ax.plot(step, [float(r[6]) for r in rows], "-o", color=color, ms=3, label="%s: val level 0" % tag)
        ax.plot(step, [float(r[4]) for r in rows], "--", color=color, label="%s: val pooled" % tag)
        ax.plot(step, [float(r[3]) for r in rows], ":", color=color, label="%s: train edges" % tag)
    for j, (name, v) in enumerate(anchors):
        ax.axhline(v, color="k", lw=0.8, ls=["-.", (0, (1, 3)), "--"][j % 3])
        ax.text(0.01, v, " " + name, transform=ax.get_yaxis_transform(), fontsize=8, va="bottom")
    ax.set_xlabel("SGD step")
    ax.set_ylabel("link AUC")
    ax.set_title("Validation link AUC (classes held out from Omniglot train)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print("wrote %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

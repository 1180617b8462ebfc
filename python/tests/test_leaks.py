"""Handles are freed by the objects that own them: RSS stays flat over many
create/free cycles."""
import gc
import os

import numpy as np

import hilander


def rss_kib():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def cycles(fn, n):
    for _ in range(n):
        fn()
    gc.collect()


def test_no_leak_over_cycles(trained, omniglot, tmp_path):
    _, path = trained
    x, y = omniglot["test"][0][:200], omniglot["test"][1][:200]
    bad = tmp_path / "bad.hlm"
    bad.write_bytes(b"\0" * 100)
    xnan = x.copy()
    xnan[3, 0] = np.nan

    def one():
        for _ in range(4):
            m = hilander.Model.load(path)   # about 0.1 MB of weights each
        hilander.cluster(x, m, threads=1)
        del m
        hilander.cluster(x, threads=1, progress=lambda p: None)
        hilander.knn(x, 5, threads=1)
        hilander.evaluate(y, y)
        try:
            hilander.Model.load(bad)
        except hilander.FormatError:
            pass
        try:
            hilander.cluster(xnan, threads=1)
        except hilander.InvalidArgumentError:
            pass
        try:
            hilander.cluster(x, levels=3, threads=1, progress=lambda p: False)
        except hilander.CanceledError:
            pass

    cycles(one, 20)  # warm up allocator pools and caches
    before = rss_kib()
    cycles(one, 150)
    grown = rss_kib() - before
    # one leaked model per cycle alone would be > 50 MB
    assert grown < 4096, "RSS grew by %d KiB over 150 cycles" % grown


def test_closed_models_release_memory(trained):
    _, path = trained
    models = [hilander.Model.load(path) for _ in range(20)]
    for m in models:
        m.close()
    assert all("closed" in repr(m) for m in models)

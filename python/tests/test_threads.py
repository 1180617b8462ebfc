"""The GIL is released during library calls; progress callbacks; cancellation."""
import threading
import time

import numpy as np
import pytest

import hilander
from conftest import blobs


def test_gil_released_during_cluster(omniglot):
    """A Python thread keeps running while another thread is inside hl_cluster."""
    x, _ = omniglot["test"]
    ticks = []
    inside = []

    def progress(info):
        inside.append((info["level"], len(ticks)))

    def work():
        hilander.cluster(x, threads=1, progress=progress)

    t = threading.Thread(target=work)
    count = 0
    t.start()
    while t.is_alive():
        count += 1
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    t.join()
    # the main thread ticked while level 0 (the bulk of the work) ran
    assert inside and inside[0][1] >= 10, inside


def _concurrent_run(x):
    first_level, done, results = {}, {}, {}
    barrier = threading.Barrier(2)

    def work(name):
        def progress(info):
            first_level.setdefault(name, time.perf_counter())
        barrier.wait()
        # cosine score, strict tau: three levels of similar size, so the
        # first callback comes about a third of the way through the call
        results[name] = hilander.cluster(x, score="sim", tau=0.97, levels=6, early_stop=False, threads=1,
                                         progress=progress).labels
        done[name] = time.perf_counter()

    threads = [threading.Thread(target=work, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    np.testing.assert_array_equal(results["a"], results["b"])
    return first_level, done


def test_two_clusterings_overlap_in_time(omniglot):
    """Two threads' calls run at the same time: each one's first level ends
    (a callback from inside the C call) before the other call returns.
    Holding the GIL through a call would serialise them, so this could never
    happen; on a loaded machine the OS may still run one call alone, hence
    up to three attempts."""
    x, _ = omniglot["test"]
    attempts = []
    for _ in range(3):
        first_level, done = _concurrent_run(x)
        attempts.append((first_level, done))
        if first_level["a"] < done["b"] and first_level["b"] < done["a"]:
            return
    pytest.fail("the two calls never overlapped: %r" % attempts)


def test_progress_called_per_level():
    x, _ = blobs(spread=0.3)
    seen = []
    r = hilander.cluster(x, score="sim", tau=0.5, levels=3, early_stop=False, progress=seen.append)
    assert [s["level"] for s in seen] == list(range(r.levels))
    assert [s["num_nodes"] for s in seen] == [st["num_nodes"] for st in r.level_stats]
    assert [s["edges_added"] for s in seen] == [st["edges_added"] for st in r.level_stats]


def test_progress_returning_false_cancels():
    x, _ = blobs(spread=0.3)
    with pytest.raises(hilander.CanceledError) as info:
        hilander.cluster(x, levels=3, early_stop=False, progress=lambda p: False)
    assert info.value.status == 6 and "False" in str(info.value)
    # the thread's state is clean: the next call works
    assert hilander.cluster(x).labels.shape == (len(x),)


def test_progress_keyboard_interrupt_cancels():
    x, _ = blobs(spread=0.3)
    calls = []

    def progress(p):
        calls.append(p)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as info:
        hilander.cluster(x, levels=3, early_stop=False, progress=progress)
    assert len(calls) == 1  # stopped at the first level
    assert isinstance(info.value.__cause__, hilander.CanceledError)


def test_progress_other_exception_propagates():
    x, _ = blobs()

    def progress(p):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        hilander.cluster(x, progress=progress)


def test_training_progress_and_cancel(omniglot):
    x, y = omniglot["train"]
    x, y = x[:600], y[:600]
    seen = []

    def stop_after_two(p):
        seen.append(p)
        return len(seen) < 2

    with pytest.raises(hilander.CanceledError):
        hilander.train(x, y, hidden=16, epochs=3, threads=2, progress=stop_after_two)
    assert len(seen) == 2
    assert {"epoch", "step", "total_steps", "loss", "val_auc"} <= set(seen[0])
    assert seen[1]["step"] > seen[0]["step"] >= 0 and seen[0]["total_steps"] > 0

    def interrupt(p):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        hilander.train(x, y, hidden=16, epochs=3, threads=2, progress=interrupt)


def test_model_shared_by_threads(trained, omniglot):
    model, _ = trained
    x = omniglot["test"][0][:2000]
    expected = hilander.cluster(x, model, threads=1).labels
    out = [None] * 3

    def work(i):
        out[i] = hilander.cluster(x, model, threads=1).labels

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for labels in out:
        np.testing.assert_array_equal(labels, expected)


def test_errors_are_per_thread():
    """Each thread sees its own call's message."""
    msgs = {}
    x = np.random.default_rng(2).normal(size=(6, 3)).astype(np.float32)

    def work(k):
        try:
            hilander.knn(x, k)
        except hilander.InvalidArgumentError as e:
            msgs[k] = e.message

    threads = [threading.Thread(target=work, args=(k,)) for k in (7, 8, 9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in (7, 8, 9):
        assert "k = %d" % k in msgs[k]

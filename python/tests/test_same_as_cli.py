"""Results identical to the C library's command-line program."""
import json
import subprocess

import numpy as np

import hilander
from conftest import TRAIN_ARGS


def run(cli, *args):
    p = subprocess.run([cli, *args], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p


def test_cluster_labels_identical_to_cli(cli, trained, omniglot, data_dir, tmp_path):
    """Model trained on the train split, test split clustered: the labels
    are the same bytes as `hilander cluster --model` writes."""
    model, path = trained
    x, _ = omniglot["test"]
    for extra, kwargs in (([], {}), (["--score", "prob", "--tau", "0.6"], dict(score="prob", tau=0.6)),
                          (["--levels", "4"], dict(levels=4))):
        out = tmp_path / "labels.npy"
        hier = tmp_path / "hier.npy"
        run(cli, "cluster", "--model", path, "--features", data_dir + "/test_features.npy",
            "--labels-out", str(out), "--hierarchy-out", str(hier), *extra)
        cli_labels = np.load(out)
        r = hilander.cluster(x, model, **kwargs)
        assert cli_labels.dtype == r.labels.dtype == np.int64
        assert cli_labels.tobytes() == r.labels.tobytes(), extra
        assert np.load(hier).tobytes() == r.hierarchy.tobytes(), extra


def test_unsupervised_identical_to_cli(cli, omniglot, data_dir, tmp_path):
    out = tmp_path / "labels.npy"
    run(cli, "cluster", "--features", data_dir + "/test_features.npy", "--labels-out", str(out))
    assert np.load(out).tobytes() == hilander.cluster(omniglot["test"][0]).labels.tobytes()


def test_trained_model_identical_to_cli(cli, trained, data_dir, tmp_path):
    """hilander.train with the same settings writes the same model file as
    `hilander train` (training is reproducible for a seed and thread count)."""
    _, path = trained
    out = tmp_path / "cli.hlm"
    run(cli, "train", "--features", data_dir + "/train_features.npy", "--labels",
        data_dir + "/train_labels.npy", "--model-out", str(out), "--quiet",
        "--epochs", str(TRAIN_ARGS["epochs"]), "--hidden", str(TRAIN_ARGS["hidden"]),
        "--threads", str(TRAIN_ARGS["threads"]))
    assert out.read_bytes() == open(path, "rb").read()


def test_evaluate_identical_to_cli(cli, trained, omniglot, data_dir, tmp_path):
    model, _ = trained
    x, y = omniglot["test"]
    labels = hilander.cluster(x, model).labels
    pred = tmp_path / "pred.npy"
    np.save(pred, labels)
    p = run(cli, "eval", "--pred", str(pred), "--labels", data_dir + "/test_labels.npy", "--json")
    want = json.loads(p.stdout)
    got = hilander.evaluate(labels, y)
    for key, value in want.items():
        if key == "n":
            assert value == len(y)
        elif key.startswith("num_"):
            assert got[key] == value, key
        else:  # the program prints 6 decimals
            assert abs(got[key] - value) <= 5e-7, key

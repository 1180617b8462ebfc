#!/usr/bin/python3
"""Load libhilander.so with ctypes (no compiler involved) and call a few
functions through the C ABI, as a Python/Julia/Rust binding would.

usage: /usr/bin/python3 tests/ffi_test.py build/libhilander.so

Only the standard library is used.  Exits non-zero on the first failure.
"""
import ctypes as C
import math
import sys


class KnnOptions(C.Structure):
    """Mirror of struct hl_knn_options (include/hilander/graph.h)."""
    _fields_ = [
        ("struct_size", C.c_size_t),
        ("k", C.c_int64),
        ("method", C.c_int32),
        ("num_threads", C.c_int32),
        ("auto_threshold", C.c_int64),
        ("block_rows", C.c_int64),
        ("nlist", C.c_int64),
        ("nprobe", C.c_int64),
        ("target_recall", C.c_double),
        ("seed", C.c_uint64),
    ]


class Metrics(C.Structure):
    """Mirror of struct hl_metrics (include/hilander/metrics.h)."""
    _fields_ = [
        ("struct_size", C.c_size_t),
        ("pairwise_precision", C.c_double),
        ("pairwise_recall", C.c_double),
        ("pairwise_f", C.c_double),
        ("bcubed_precision", C.c_double),
        ("bcubed_recall", C.c_double),
        ("bcubed_f", C.c_double),
        ("nmi", C.c_double),
        ("num_true_clusters", C.c_int64),
        ("num_pred_clusters", C.c_int64),
    ]


class ModelConfig(C.Structure):
    """Mirror of struct hl_model_config (include/hilander/model.h)."""
    _fields_ = [
        ("struct_size", C.c_size_t),
        ("feature_dim", C.c_int64),
        ("hidden", C.c_int64),
        ("num_conv", C.c_int32),
        ("use_cluster_feat", C.c_int32),
        ("dropout", C.c_float),
        ("layer_type", C.c_int32),
        ("link_head", C.c_int32),
        ("edge_features", C.c_uint32),
        ("rel_rank", C.c_int32),
    ]


HL_OK, HL_EINVAL, HL_EIO = 0, 1, 3


def check_model_handle(lib):
    """An opaque model handle through its life: create, attach a feature map,
    map features (compared with the formula computed here), free."""
    lib.hl_model_config_init.restype = C.c_int
    lib.hl_model_config_init.argtypes = [C.POINTER(ModelConfig), C.c_size_t]
    lib.hl_model_create.restype = C.c_int
    lib.hl_model_create.argtypes = [C.POINTER(ModelConfig), C.c_uint64, C.POINTER(C.c_void_p)]
    lib.hl_model_free.restype = None
    lib.hl_model_free.argtypes = [C.c_void_p]
    lib.hl_model_set_whitening.restype = C.c_int
    lib.hl_model_set_whitening.argtypes = [C.c_void_p, C.POINTER(C.c_float)]
    lib.hl_model_get_whitening.restype = C.c_int
    lib.hl_model_get_whitening.argtypes = [C.c_void_p, C.POINTER(C.c_float), C.POINTER(C.c_int32)]
    lib.hl_model_transform.restype = C.c_int
    lib.hl_model_transform.argtypes = [C.c_void_p, C.POINTER(C.c_float), C.c_int64, C.c_int64,
                                       C.POINTER(C.c_float)]
    cfg = ModelConfig()
    lib.hl_model_config_init(C.byref(cfg), C.sizeof(cfg))
    check(cfg.struct_size == C.sizeof(ModelConfig), "hl_model_config_init sets struct_size = %d" % cfg.struct_size)
    cfg.feature_dim, cfg.hidden, cfg.rel_rank = 2, 4, 0
    model = C.c_void_p()
    st = lib.hl_model_create(C.byref(cfg), 7, C.byref(model))
    check(st == HL_OK and model.value, "hl_model_create -> %s" % lib.hl_status_str(st).decode())
    present = C.c_int32(-1)
    check(lib.hl_model_get_whitening(model, None, C.byref(present)) == HL_OK and present.value == 0,
          "a new model has no feature map")
    w = [2.0, 0.0, -1.0, 0.5]
    st = lib.hl_model_set_whitening(model, (C.c_float * 4)(*w))
    check(st == HL_OK, "hl_model_set_whitening")
    pts = [3.0, 4.0, 1.0, -1.0]
    out = (C.c_float * 4)()
    st = lib.hl_model_transform(model, (C.c_float * 4)(*pts), 2, 2, out)
    check(st == HL_OK, "hl_model_transform")
    for i in range(2):
        x0, x1 = pts[2 * i], pts[2 * i + 1]
        nx = math.hypot(x0, x1)
        v0, v1 = (w[0] * x0 + w[1] * x1) / nx, (w[2] * x0 + w[3] * x1) / nx
        nv = math.hypot(v0, v1)
        check(abs(out[2 * i] - v0 / nv) < 1e-6 and abs(out[2 * i + 1] - v1 / nv) < 1e-6,
              "row %d mapped to (%.6f, %.6f)" % (i, out[2 * i], out[2 * i + 1]))
    st = lib.hl_model_transform(model, (C.c_float * 4)(*pts), 2, 3, out)
    check(st == HL_EINVAL and "feature_dim" in lib.hl_last_error().decode(), "wrong d -> HL_EINVAL '%s'"
          % lib.hl_last_error().decode())
    lib.hl_model_free(model)
    lib.hl_model_free(None)


def check(cond, what):
    if not cond:
        print("ffi_test: FAILED: " + what, file=sys.stderr)
        sys.exit(1)
    print("ffi_test: ok: " + what)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    lib = C.CDLL(sys.argv[1])

    lib.hl_version.restype = C.c_char_p
    lib.hl_version.argtypes = []
    lib.hl_version_number.restype = C.c_uint32
    lib.hl_version_number.argtypes = []
    lib.hl_status_str.restype = C.c_char_p
    lib.hl_status_str.argtypes = [C.c_int]
    lib.hl_last_error.restype = C.c_char_p
    lib.hl_last_error.argtypes = []
    lib.hl_npy_read_f32.restype = C.c_int
    lib.hl_npy_read_f32.argtypes = [C.c_char_p, C.POINTER(C.POINTER(C.c_float)),
                                    C.POINTER(C.c_int64), C.POINTER(C.c_int64)]
    lib.hl_knn_options_init.restype = C.c_int
    lib.hl_knn_options_init.argtypes = [C.POINTER(KnnOptions), C.c_size_t]
    lib.hl_knn_search.restype = C.c_int
    lib.hl_knn_search.argtypes = [C.POINTER(C.c_float), C.c_int64, C.c_int64, C.POINTER(KnnOptions),
                                  C.POINTER(C.c_int64), C.POINTER(C.c_float)]
    lib.hl_evaluate.restype = C.c_int
    lib.hl_evaluate.argtypes = [C.POINTER(C.c_int64), C.POINTER(C.c_int64), C.c_int64, C.POINTER(Metrics)]

    version = lib.hl_version().decode()
    number = lib.hl_version_number()
    major, minor, patch = (int(p) for p in version.split("."))
    check(number == major * 10000 + minor * 100 + patch, "hl_version() %s matches hl_version_number() %d"
          % (version, number))
    check(lib.hl_status_str(HL_EINVAL).decode().startswith("HL_EINVAL"), "hl_status_str(HL_EINVAL)")

    # A failing call: status plus a message naming the culprit.
    data = C.POINTER(C.c_float)()
    rows, cols = C.c_int64(), C.c_int64()
    missing = b"/nonexistent/hilander_ffi.npy"
    st = lib.hl_npy_read_f32(missing, C.byref(data), C.byref(rows), C.byref(cols))
    msg = lib.hl_last_error().decode()
    check(st == HL_EIO and "hilander_ffi.npy" in msg, "hl_npy_read_f32 on a missing file -> HL_EIO, '%s'" % msg)

    # kNN on a tiny array: two tight pairs.  The options struct is initialised
    # by the library (struct_size included), then k is changed.
    opts = KnnOptions()
    lib.hl_knn_options_init(C.byref(opts), C.sizeof(opts))
    check(opts.struct_size == C.sizeof(KnnOptions), "hl_knn_options_init sets struct_size = %d" % opts.struct_size)
    opts.k = 2
    pts = [(1.0, 0.0), (0.9, 0.1), (0.0, 1.0), (0.1, 0.9)]
    n, d = len(pts), 2
    x = (C.c_float * (n * d))(*[v for p in pts for v in p])
    nbrs = (C.c_int64 * (n * opts.k))()
    sims = (C.c_float * (n * opts.k))()
    st = lib.hl_knn_search(x, n, d, C.byref(opts), nbrs, sims)
    check(st == HL_OK, "hl_knn_search on 4 points, k = 2 -> %s%s" % (
        lib.hl_status_str(st).decode(), "" if st == HL_OK else " " + lib.hl_last_error().decode()))
    got = [[nbrs[i * opts.k + j] for j in range(opts.k)] for i in range(n)]
    check(got == [[0, 1], [1, 0], [2, 3], [3, 2]], "kNN neighbour lists %s" % got)
    norm = [math.hypot(*p) for p in pts]
    want01 = (pts[0][0] * pts[1][0] + pts[0][1] * pts[1][1]) / (norm[0] * norm[1])
    check(abs(sims[0] - 1.0) < 1e-6 and abs(sims[1] - want01) < 1e-5, "kNN similarities %.6f %.6f" % (sims[0], sims[1]))
    opts.k = 9
    st = lib.hl_knn_search(x, n, d, C.byref(opts), nbrs, sims)
    check(st == HL_EINVAL and "k" in lib.hl_last_error().decode(), "k > n -> HL_EINVAL '%s'"
          % lib.hl_last_error().decode())

    # Metrics of a perfect and of a one-cluster prediction.
    truth = (C.c_int64 * 6)(0, 0, 0, 1, 1, 1)
    pred = (C.c_int64 * 6)(5, 5, 5, 9, 9, 9)
    m = Metrics()
    m.struct_size = C.sizeof(Metrics)
    st = lib.hl_evaluate(truth, pred, 6, C.byref(m))
    check(st == HL_OK and abs(m.pairwise_f - 1) < 1e-12 and abs(m.bcubed_f - 1) < 1e-12 and abs(m.nmi - 1) < 1e-12
          and m.num_true_clusters == 2 and m.num_pred_clusters == 2, "hl_evaluate perfect partition")
    one = (C.c_int64 * 6)(0, 0, 0, 0, 0, 0)
    st = lib.hl_evaluate(truth, one, 6, C.byref(m))
    # Pairwise precision: 6 true pairs of 15 predicted pairs; recall 1.
    check(st == HL_OK and abs(m.pairwise_precision - 6 / 15) < 1e-12 and abs(m.pairwise_recall - 1) < 1e-12
          and abs(m.nmi) < 1e-12, "hl_evaluate one-cluster partition (precision %.4f)" % m.pairwise_precision)
    m.struct_size = 3
    st = lib.hl_evaluate(truth, pred, 6, C.byref(m))
    check(st == HL_EINVAL, "hl_evaluate with a bad struct_size -> HL_EINVAL '%s'" % lib.hl_last_error().decode())

    check_model_handle(lib)

    print("ffi_test: all ctypes checks passed (libhilander %s)" % version)


if __name__ == "__main__":
    main()

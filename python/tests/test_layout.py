"""The binding's ctypes structs against the C headers' text: same fields,
same order, same types.  (At import the library itself confirms every
struct's size; this catches a reordering that keeps the size.)"""
import ctypes as C
import os
import re

import pytest

from hilander import _lib

CTYPES = {
    "size_t": C.c_size_t, "int64_t": C.c_int64, "int32_t": C.c_int32, "uint32_t": C.c_uint32,
    "uint64_t": C.c_uint64, "float": C.c_float, "double": C.c_double,
}
STRUCTS = {
    "hl_knn_options": ("graph.h", _lib.KnnOptions),
    "hl_cluster_options": ("cluster.h", _lib.ClusterOptions),
    "hl_model_config": ("model.h", _lib.ModelConfig),
    "hl_train_options": ("train.h", _lib.TrainOptions),
    "hl_train_progress": ("train.h", _lib.TrainProgress),
    "hl_metrics": ("metrics.h", _lib.Metrics),
}


def header_fields(text, name):
    """[(C type, field name, array length or None)] of `typedef struct name {...} name;`."""
    m = re.search(r"typedef struct %s \{(.*?)\} %s;" % (name, name), text, re.S)
    assert m, "struct %s not found" % name
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    body = re.sub(r"//[^\n]*", "", body)
    fields = []
    for decl in body.split(";"):
        decl = " ".join(decl.split())
        if not decl:
            continue
        fm = re.fullmatch(r"(.+?)\s*(\*?)\s*(\w+)(?:\[(\w+)\])?", decl)
        assert fm, "cannot parse %r in %s" % (decl, name)
        ctype, star, fname, length = fm.groups()
        fields.append((ctype + star, fname, length))
    return fields


def expected_ctype(ctype, length):
    if ctype.endswith("*") or ctype.endswith("_fn"):
        return C.c_void_p
    base = CTYPES[ctype]
    if length is not None:
        n = getattr(_lib, length) if not length.isdigit() else int(length)
        return base * n
    return base


@pytest.mark.parametrize("name", sorted(STRUCTS))
def test_struct_matches_header(name, include_dir):
    header, cls = STRUCTS[name]
    text = open(os.path.join(include_dir, header)).read()
    fields = header_fields(text, name)
    assert [f for f, _ in cls._fields_] == [f for _, f, _ in fields], name
    for (fname, ftype), (ctype, _, length) in zip(cls._fields_, fields):
        want = expected_ctype(ctype, length)
        if hasattr(want, "_length_"):
            assert ftype._type_ is want._type_ and ftype._length_ == want._length_, fname
        else:
            assert ftype is want, "%s.%s: binding %s, header %s" % (name, fname, ftype, ctype)


def test_train_max_graphs_matches_header(include_dir):
    text = open(os.path.join(include_dir, "train.h")).read()
    assert re.search(r"#define HL_TRAIN_MAX_GRAPHS %d\b" % _lib.HL_TRAIN_MAX_GRAPHS, text)


def test_enums_match_header(include_dir):
    text = open(os.path.join(include_dir, "model.h")).read() + open(os.path.join(include_dir, "graph.h")).read()
    for name, value in _lib.SCORES.items():
        assert re.search(r"HL_SCORE_%s = %d\b" % (name.upper(), value), text), name
    for name, value in _lib.KNN_METHODS.items():
        assert re.search(r"HL_KNN_%s = %d\b" % (name.upper(), value), text), name
    errors = open(os.path.join(include_dir, "error.h")).read()
    for const in ("HL_OK", "HL_EINVAL", "HL_ENOMEM", "HL_EIO", "HL_EFORMAT", "HL_ERANGE", "HL_ECANCELED",
                  "HL_EVERSION", "HL_EINTERNAL"):
        assert re.search(r"%s = %d\b" % (const, getattr(_lib, const)), errors), const


def test_layout_check_refuses_a_wrong_struct():
    """A struct the library does not know is refused at import time."""

    class Wrong(C.Structure):
        _fields_ = list(_lib.ClusterOptions._fields_) + [("extra", C.c_int64)]

    saved = dict(_lib.VERSIONED_STRUCTS)
    try:
        _lib.VERSIONED_STRUCTS["hl_cluster_options"] = (Wrong, "hl_cluster_options_init")
        if _lib.struct_sizes["hl_cluster_options"][1] >= C.sizeof(Wrong):
            pytest.skip("the loaded library is newer and knows a larger hl_cluster_options")
        with pytest.raises(_lib.LibraryError, match="hl_cluster_options"):
            _lib._check_layouts(_lib.lib, _lib.library_path)
    finally:
        _lib.VERSIONED_STRUCTS.clear()
        _lib.VERSIONED_STRUCTS.update(saved)
    assert _lib._check_layouts(_lib.lib, _lib.library_path) == _lib.struct_sizes

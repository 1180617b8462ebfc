"""How the package finds the library, and what it refuses."""
import ctypes.util
import os
import shutil
import subprocess
import sys

import pytest

import hilander
from hilander import _lib

PKG_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(hilander.__file__)))
PROBE = "import hilander; print(hilander.library_path()); print(hilander.library_version())"


def run_python(code, env_update, pkg_parent=PKG_PARENT, cwd=None):
    env = {k: v for k, v in os.environ.items() if k not in ("HILANDER_LIBRARY", "LD_LIBRARY_PATH")}
    env.update(env_update)
    env["PYTHONPATH"] = pkg_parent
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd)


def test_env_variable_names_the_file():
    p = run_python(PROBE, {"HILANDER_LIBRARY": hilander.library_path()})
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [hilander.library_path(), hilander.library_version()]


def test_missing_library_is_a_clear_import_error():
    p = run_python(PROBE, {"HILANDER_LIBRARY": "/nonexistent/libhilander.so.0"})
    assert p.returncode != 0
    assert "LibraryError" in p.stderr and "cannot load" in p.stderr and "HILANDER_LIBRARY" in p.stderr
    assert issubclass(hilander.LibraryError, ImportError)


def test_another_library_is_refused():
    libm = ctypes.util.find_library("m")
    assert libm
    p = run_python(PROBE, {"HILANDER_LIBRARY": libm})
    assert p.returncode != 0
    assert "lacks hl_version" in p.stderr and "too old or not libhilander" in p.stderr


def test_too_old_library_is_refused():
    with pytest.raises(hilander.LibraryError, match="needs 0.1.0 or newer"):
        _lib._check_version(99, "0.0.99", "/x/libhilander.so.0")
    _lib._check_version(_lib.MIN_LIBRARY_VERSION, "0.1.0", "/x/libhilander.so.0")


def test_library_next_to_the_package(tmp_path):
    """Without HILANDER_LIBRARY, a libhilander.so.0 beside __init__.py is used."""
    shutil.copytree(os.path.dirname(hilander.__file__), tmp_path / "hilander",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(hilander.library_path(), tmp_path / "hilander" / "libhilander.so.0")
    p = run_python(PROBE, {}, pkg_parent=str(tmp_path), cwd=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[0] == os.path.realpath(str(tmp_path / "hilander" / "libhilander.so.0"))

#!/usr/bin/env bash
# The Python package (python/hilander) against a built library:
#   1. pip-install it offline (no build isolation, no index) into a throw-away
#      venv that sees Debian's numpy and pytest;
#   2. import it with the library found by the loader path (LD_LIBRARY_PATH),
#      and check it names that file;
#   3. run python/tests/ with the installed package, HILANDER_LIBRARY naming
#      the build's library and HILANDER_CLI its `hilander` program;
#   4. run examples/python/omniglot.py (one training epoch) and check its PNG.
#
#   bash scripts/ci/python.sh BUILD_DIR      (default: build)
#
# Uses Debian's /usr/bin/python3; SKIP_DEPS=1 skips the apt step.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
PY=/usr/bin/python3
LIB="$BUILD/libhilander.so.0"
CLI="$BUILD/tools/hilander/hilander"
T0=$(date +%s)

if [ "${SKIP_DEPS:-0}" != 1 ]; then
    bash "$ROOT/scripts/install_deps.sh" python3 python3-numpy python3-pytest python3-setuptools python3-pip \
        python3-venv python3-matplotlib
fi
[ -e "$LIB" ] || { echo "python.sh: $LIB not found (build the library first)" >&2; exit 1; }
[ -x "$CLI" ] || { echo "python.sh: $CLI not found (build with HL_BUILD_EXAMPLES=ON)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hilander-python.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
"$PY" -m venv --without-pip --system-site-packages "$TMP/venv"
VPY="$TMP/venv/bin/python"
# Build from a copy so that the checkout stays clean (setuptools builds in-tree).
cp -r "$ROOT/python" "$TMP/src"
rm -rf "$TMP/src/build" "$TMP/src"/*.egg-info
"$VPY" -m pip install --quiet --no-build-isolation --no-index --no-deps "$TMP/src"

# The loader path finds the library; the package says which file it loaded.
loaded=$(cd "$TMP" && env -u HILANDER_LIBRARY LD_LIBRARY_PATH="$BUILD" "$VPY" -c \
    'import hilander; print(hilander.library_path()); print(hilander.__version__, hilander.library_version())')
echo "python.sh: loaded via LD_LIBRARY_PATH: $(echo "$loaded" | tr '\n' ' ')"
[ "$(echo "$loaded" | head -n 1)" = "$(readlink -f "$LIB")" ] || { echo "python.sh: loaded the wrong library" >&2; exit 1; }

export HILANDER_LIBRARY="$LIB" HILANDER_CLI="$CLI" HILANDER_TEST_INSTALLED=1 PYTHONDONTWRITEBYTECODE=1
(cd "$TMP" && "$VPY" -m pytest -q -p no:cacheprovider "$ROOT/python/tests")
# The example, with a one-epoch training to keep CI short.
(cd "$TMP" && "$VPY" "$ROOT/examples/python/omniglot.py" --epochs 1 --plot "$TMP/plot.png" 2>/dev/null)
[ "$(head -c 4 "$TMP/plot.png" | od -An -c | tr -d ' ')" = "211PNG" ] || { echo "python.sh: no PNG plot" >&2; exit 1; }
echo "python.sh: passed in $(( $(date +%s) - T0 ))s"

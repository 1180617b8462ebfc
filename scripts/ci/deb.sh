#!/usr/bin/env bash
# CI step: build the Debian packages (debian/), check them with lintian, install
# them on this machine with apt-get, build and run a consumer against the
# installed package (pkg-config and CMake), run the installed program and its
# man page, then purge the packages again.
#
#   bash scripts/ci/deb.sh
#
# The packages are built in a temporary copy of the working tree (tracked and
# untracked files, not the ignored build directories), so the checkout stays
# clean.  Must run as root (or with sudo): it installs and removes packages.
# Environment: JOBS (default 2), SKIP_DEPS=1, KEEP=1 keeps the temporary
# directory (printed) and does not purge the packages.
# DPKG_GENSYMBOLS_CHECK_LEVEL=4: the build fails when the exported symbols
# differ from debian/libhilander0.symbols (see docs/INSTALL.md to update it).
{
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
JOBS=${JOBS:-2}
PKGS=(python3-hilander hilander libhilander-dev libhilander0)
T0=$(date +%s)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hilander-deb.XXXXXX")
if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
INSTALLED=0

on_exit() {
    local rc=$?
    if [ "$INSTALLED" = 1 ] && [ "${KEEP:-0}" != 1 ]; then
        DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get purge -y -q "${PKGS[@]}" >/dev/null 2>&1 || true
    fi
    if [ "${KEEP:-0}" = 1 ]; then echo "deb.sh: kept $TMP"; else rm -rf "$TMP"; fi
    if [ "$rc" -eq 0 ]; then
        echo "deb.sh: OK in $(( $(date +%s) - T0 ))s"
    else
        echo "deb.sh: FAILED (exit $rc) after $(( $(date +%s) - T0 ))s" >&2
    fi
}
trap on_exit EXIT
lap() { echo "deb.sh: [$(( $(date +%s) - T0 ))s] $*"; }

if [ "${SKIP_DEPS:-0}" != 1 ]; then
    bash scripts/install_deps.sh debhelper lintian dpkg-dev fakeroot libblas-dev libblas3 cmake make gcc \
        libc6-dev pkgconf check man-db git dh-python python3-all python3-setuptools pybuild-plugin-pyproject \
        python3-numpy
fi

# ---- the package version is the project's ---------------------------------------
PROJ_VERSION=$(sed -n 's/^project(hilander VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
DEB_VERSION=$(dpkg-parsechangelog -S Version)
[ "${DEB_VERSION%%-*}" = "$PROJ_VERSION" ] || {
    echo "deb.sh: ERROR: debian/changelog has $DEB_VERSION, CMakeLists.txt $PROJ_VERSION" >&2; exit 1; }

# ---- a copy of the tree ---------------------------------------------------------
SRC="$TMP/libhilander"
mkdir -p "$SRC"
git ls-files -z -c -o --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$SRC"
lap "source copied to $SRC"

# ---- build ------------------------------------------------------------------------
(
    cd "$SRC"
    # noddebs: no -dbgsym packages (not needed here, and faster)
    export DEB_BUILD_OPTIONS="parallel=$JOBS noddebs ${DEB_BUILD_OPTIONS:-}"
    export DPKG_GENSYMBOLS_CHECK_LEVEL=4
    # Debian's own tools only (a pyenv or venv python first in PATH lacks the
    # modules pybuild needs).
    PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg-buildpackage -us -uc -b
) > "$TMP/build.log" 2>&1 || { tail -n 60 "$TMP/build.log" >&2; echo "deb.sh: ERROR: dpkg-buildpackage failed" >&2; exit 1; }
grep -E '^[0-9]+/[0-9]+ Test|tests passed|tests failed' "$TMP/build.log" || true
lap "packages built: $(cd "$TMP" && ls -- *.deb | paste -sd ' ')"

# ---- lintian: no error, no warning ---------------------------------------------
lintian --version
lintian --fail-on error,warning --display-info "$TMP"/*.changes || { echo "deb.sh: ERROR: lintian reports errors or warnings" >&2; exit 1; }
lap "lintian clean"

# ---- install --------------------------------------------------------------------
(cd "$TMP" && DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends ./*.deb)
INSTALLED=1
lap "installed"

# ---- use the installed package, with a clean environment ------------------------
CLEAN=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$TMP" LANG=C.UTF-8)
CFLAGS_LIBS=$("${CLEAN[@]}" pkg-config --cflags --libs hilander)
echo "pkg-config --cflags --libs hilander: $CFLAGS_LIBS"
# shellcheck disable=SC2086
"${CLEAN[@]}" cc -std=c11 -Wall -Wextra -Werror tests/install_test/consumer.c -o "$TMP/consumer_pc" $CFLAGS_LIBS
"${CLEAN[@]}" "$TMP/consumer_pc" "$TMP"
"${CLEAN[@]}" cmake -S tests/install_test -B "$TMP/consumer-build" -DCMAKE_BUILD_TYPE=Release >/dev/null
"${CLEAN[@]}" cmake --build "$TMP/consumer-build"
"${CLEAN[@]}" "$TMP/consumer-build/consumer" "$TMP"
"${CLEAN[@]}" hilander --help > "$TMP/help.txt" || { cat "$TMP/help.txt"; echo "deb.sh: ERROR: hilander --help failed" >&2; exit 1; }
head -n 3 "$TMP/help.txt"
echo "man -w hilander: $("${CLEAN[@]}" man -w hilander)"
"${CLEAN[@]}" /usr/bin/python3 -c '
import numpy as np, hilander
x = np.repeat(np.eye(4, dtype=np.float32), 10, axis=0) + 0.01 * np.arange(40, dtype=np.float32)[:, None]
c = hilander.cluster(x, k=5)
print("python3-hilander:", hilander.__version__, "library", hilander.library_version(), hilander.library_path(),
      "clusters", len(set(c.labels.tolist())))
assert hilander.library_path().startswith("/usr/lib")
'

lap "consumer (pkg-config, CMake), hilander --help, man -w hilander and python3-hilander OK"

# ---- remove -----------------------------------------------------------------------
if [ "${KEEP:-0}" != 1 ]; then
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get purge -y -q "${PKGS[@]}"
    INSTALLED=0
    for p in "${PKGS[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        if [[ "$status" == *"ok installed"* ]]; then
            echo "deb.sh: ERROR: $p is still installed" >&2
            exit 1
        fi
    done
    [ ! -e /usr/bin/hilander ] || { echo "deb.sh: ERROR: /usr/bin/hilander left behind" >&2; exit 1; }
    lap "packages purged"
fi
exit 0
}

#!/usr/bin/env bash
# CI step: build libhilander against libblas.so.3 (-DHL_BLAS=blas) and run the
# test suite on the *reference* BLAS, so that nothing depends on OpenBLAS-only
# symbols (they are weak references, see lib/common/blas.c) or OpenBLAS behaviour.
#
#   bash scripts/ci/blas.sh [BUILD_PREFIX]    # build dirs BUILD_PREFIX-blas, BUILD_PREFIX-blis
#                                             # (default build-blas, build-blis)
#
# On Debian libblas.so.3 is an alternative (OpenBLAS, BLIS or reference); the
# tests run with the reference implementation's directory first on
# LD_LIBRARY_PATH and the script checks that it is the one loaded.  Then the
# library alone is built against BLIS (-DHL_BLAS=blis), without tests.
# Environment: JOBS (default 2), SKIP_DEPS=1, CTEST_ARGS (extra ctest arguments).
{
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BUILD_PREFIX=${1:-build}
DIR="$BUILD_PREFIX-blas"
JOBS=${JOBS:-2}
read -r -a CTEST_EXTRA <<< "${CTEST_ARGS:-}"
T0=$(date +%s)
on_exit() {
    local rc=$?
    [ $rc -eq 0 ] || echo "blas.sh: FAILED (exit $rc) after $(( $(date +%s) - T0 ))s" >&2
}
trap on_exit EXIT

if [ "${SKIP_DEPS:-0}" != 1 ]; then
    bash scripts/install_deps.sh cmake make gcc libc6-dev check pkg-config libblas-dev libblas3 libblis-dev
fi

# Examples off: they train on the full Omniglot split, which the reference BLAS
# makes slow (example_02_train_save: 228 s at load 17, against ~20 s for
# test_train); the Check suites and the program's tests run the same code.
cmake -S . -B "$DIR" -DCMAKE_BUILD_TYPE=Release -DHL_BLAS=blas -DHL_WERROR=ON -DHL_BUILD_BENCH=OFF \
    -DHL_BUILD_EXAMPLES=OFF
cmake --build "$DIR" -j "$JOBS"
T1=$(date +%s)

ARCH=$(gcc -print-multiarch 2>/dev/null || true)
REF="/usr/lib/$ARCH/blas"
if [ -n "$ARCH" ] && [ -e "$REF/libblas.so.3" ]; then
    export LD_LIBRARY_PATH="$REF${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
else
    echo "blas.sh: no Debian reference BLAS directory ($REF): testing whatever libblas.so.3 resolves to"
fi
# The shared library and a test that calls sgemm must load the reference BLAS
# and no OpenBLAS.
for bin in "$DIR/libhilander.so" "$DIR/tests/test_knn"; do
    deps=$(ldd "$bin")
    echo "$bin: $(echo "$deps" | grep -E 'libblas|openblas|blis' | sed 's/ (0x.*//' | tr -s ' \t' ' ' | paste -sd ';')"
    grep -q 'libopenblas\|libblis' <<< "$deps" && { echo "blas.sh: ERROR: $bin loads OpenBLAS or BLIS" >&2; exit 1; }
    if [ -e "$REF/libblas.so.3" ]; then
        grep -q "libblas.so.3 => $REF/libblas.so.3" <<< "$deps" || {
            echo "blas.sh: ERROR: $bin does not load $REF/libblas.so.3" >&2; exit 1; }
    fi
done

(cd "$DIR" && ctest --output-on-failure -j "$JOBS" "${CTEST_EXTRA[@]}")
T2=$(date +%s)

# BLIS: the library alone must build and link against it (-DHL_BLAS=blis).
BLIS_DIR="$BUILD_PREFIX-blis"
mkdir -p "$BLIS_DIR"
cmake -S . -B "$BLIS_DIR" -DCMAKE_BUILD_TYPE=Release -DHL_BLAS=blis -DHL_WERROR=ON -DHL_BUILD_TESTS=OFF \
    -DHL_BUILD_EXAMPLES=OFF -DHL_BUILD_BENCH=OFF > "$BLIS_DIR/configure.log" 2>&1 || { cat "$BLIS_DIR/configure.log"; exit 1; }
cmake --build "$BLIS_DIR" -j "$JOBS" --target hilander
blis_deps=$(ldd "$BLIS_DIR/libhilander.so")
grep -q libblis <<< "$blis_deps" || { echo "blas.sh: ERROR: $BLIS_DIR/libhilander.so does not link BLIS" >&2; exit 1; }
T3=$(date +%s)
echo "blas.sh: reference BLAS: configure+build $(( T1 - T0 ))s, ctest $(( T2 - T1 ))s; BLIS library build $(( T3 - T2 ))s; total $(( T3 - T0 ))s"
exit 0
}

#!/usr/bin/env bash
# The whole verification of libhilander, as CI runs it (.ci/run):
#   0. install dependencies (apt; skipped when present)
#   a. gcc Release build + ctest
#   b. clang build with -Werror (+ ctest)
#   c. ASan+UBSan build + ctest
#   d. exported symbols (only hl_*, under version nodes HILANDER_0.x), SONAME,
#      and the ABI against the stored baselines (scripts/ci/abi.sh, abidiff)
#   e. cppcheck over lib/, tools/ and examples/; documentation checks
#   f. install into a temporary prefix; build and run a consumer with
#      pkg-config and with find_package(hilander); run the installed program
#      with a clean environment (scripts/ci/install.sh)
#   h. the Python package (python/): pip install into a venv, pytest, example
#   h2-h4. libFuzzer on every file reader (bounded), the allocation-failure
#      sweep under ASan, ThreadSanitizer on the thread suites
#   h5. the optional MPI library: Open MPI installed, built with HL_MPI=ON,
#      hl_mpi_cluster against hl_cluster under 1, 2, 4 ranks, its exports and
#      an installed consumer (scripts/ci/mpi.sh)
#   i. the test suite against reference BLAS (libblas.so.3), a build with BLIS
#   j. Debian packages: build (tests run), lintian, install, consume, purge
# Stops at the first failure with a message naming the step; prints a summary.
#
# Environment: JOBS (default 2), BUILD_PREFIX (default "build": uses build,
# build-clang, build-asan), CLANG_CTEST=0 to only build with clang,
# SKIP_DEPS=1 to skip the apt step, CTEST_ARGS (extra ctest arguments, e.g.
# "-E test_train" while a suite is being worked on; empty for CI).
# The body is one { ... } block so that bash parses it completely before running:
# editing this file (e.g. a git pull) while it runs cannot change what runs.
{
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

JOBS=${JOBS:-2}
BUILD_PREFIX=${BUILD_PREFIX:-build}
B_GCC="$BUILD_PREFIX"
B_CLANG="$BUILD_PREFIX-clang"
B_ASAN="$BUILD_PREFIX-asan"
CLANG_CTEST=${CLANG_CTEST:-1}
read -r -a CTEST_EXTRA <<< "${CTEST_ARGS:-}"
T0=$(date +%s)
STEP="start"
DONE=()
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hilander-test.XXXXXX")

finish() {
    rc=$?
    rm -rf "$TMP"
    local secs=$(( $(date +%s) - T0 ))
    echo
    if [ $rc -eq 0 ]; then
        echo "test.sh: ALL PASSED (${#DONE[@]} steps: ${DONE[*]}) in ${secs}s"
    else
        echo "test.sh: FAILED in step '$STEP' (exit $rc) after ${secs}s; passed before it: ${DONE[*]:-none}" >&2
    fi
    exit $rc
}
trap finish EXIT

step() {
    STEP="$1"
    echo
    echo "==== test.sh [$(date +%H:%M:%S)] step $1"
}
pass() { DONE+=("$STEP"); }
die() { echo "test.sh: ERROR: $*" >&2; exit 1; }

# ---- 0. dependencies ----------------------------------------------------------
step "0-deps"
if [ "${SKIP_DEPS:-0}" != 1 ]; then
    bash scripts/install_deps.sh cmake make gcc libc6-dev binutils clang libomp-dev libopenblas-dev check \
        pkg-config python3 cppcheck groff-base man-db abigail-tools libclang-rt-14-dev
fi
[ -x /usr/bin/python3 ] || die "/usr/bin/python3 is missing"
for tool in gcc clang cmake cppcheck; do
    command -v "$tool" >/dev/null || die "$tool is missing"
    echo "$tool: $("$tool" --version | head -n 1)"
done
echo "machine: $(nproc) cores, $(uname -srm), CI=${CI:-false}"
pass

configure_build() {   # dir, extra cmake args...
    local dir=$1
    shift
    cmake -S . -B "$dir" -DHL_WERROR=ON "$@"
    cmake --build "$dir" -j "$JOBS"
}

# ---- a. gcc Release + ctest -------------------------------------------------
step "a-gcc-release"
# CC only matters on the first configure (demo.sh may have configured this dir with cc = gcc).
CC=gcc configure_build "$B_GCC" -DCMAKE_BUILD_TYPE=Release
cc_id=$(grep -h 'set(CMAKE_C_COMPILER_ID "' "$B_GCC"/CMakeFiles/*/CMakeCCompiler.cmake | head -n 1)
[[ "$cc_id" == *'"GNU"'* ]] || die "$B_GCC is configured with another compiler ($cc_id); remove it or set BUILD_PREFIX"
(cd "$B_GCC" && ctest --output-on-failure -j "$JOBS" "${CTEST_EXTRA[@]}")
pass

# ---- b. clang -Werror ---------------------------------------------------------
step "b-clang"
configure_build "$B_CLANG" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang
if [ "$CLANG_CTEST" = 1 ]; then
    (cd "$B_CLANG" && ctest --output-on-failure -j "$JOBS" "${CTEST_EXTRA[@]}")
fi
pass

# ---- c. ASan + UBSan ----------------------------------------------------------
step "c-asan-ubsan"
configure_build "$B_ASAN" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHL_SANITIZE=ON -DCMAKE_C_COMPILER=gcc \
    -DHL_BUILD_BENCH=OFF
(
    cd "$B_ASAN"
    export ASAN_OPTIONS="detect_leaks=1"
    export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    export CK_FORK=no   # one process per suite: ASan sees everything
    ctest --output-on-failure -j "$JOBS" "${CTEST_EXTRA[@]}"
)
pass

# ---- d. exported symbols and SONAME -------------------------------------------
step "d-symbols"
LIB="$B_GCC/libhilander.so"
[ -e "$LIB" ] || die "$LIB not found"
# nm prints "addr type name[@@version]"; the version node itself is an absolute symbol.
bad=$(nm -D --defined-only "$LIB" | awk '{print $NF}' | sed 's/@.*//' | grep -v -E '^(hl_[A-Za-z0-9_]+|HILANDER_0\.[0-9]+)$' || true)
[ -z "$bad" ] || die "symbols exported outside the hl_ namespace: $(echo $bad)"
nexp=$(nm -D --defined-only "$LIB" | awk '{print $NF}' | grep -c '^hl_' || true)
[ "$nexp" -gt 0 ] || die "no hl_ symbols exported"
unversioned=$(nm -D --defined-only "$LIB" | awk '$NF ~ /^hl_/ && $NF !~ /@@HILANDER_0\.[0-9]+$/ {print $NF}')
[ -z "$unversioned" ] || die "symbols outside a HILANDER_0.x version node: $(echo $unversioned)"
soname=$(objdump -p "$LIB" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = "libhilander.so.0" ] || die "SONAME is '$soname', expected libhilander.so.0"
echo "exported: $nexp hl_ functions under HILANDER_0.x nodes; SONAME $soname"
bash scripts/ci/abi.sh "$BUILD_PREFIX-abi"
pass

# ---- e. cppcheck ----------------------------------------------------------------
step "e-cppcheck"
cppcheck --version
cppcheck -q -j "$JOBS" --std=c11 --enable=warning,performance,portability --error-exitcode=1 --inline-suppr \
    -I include -I lib lib/ tools/ examples/
bash scripts/ci/docs.sh
pass

# ---- f. install and consume -------------------------------------------------
step "f-install"
bash scripts/ci/install.sh "$B_GCC"
pass

# ---- h. Python package (the FFI use of the library) -------------------------------
step "h-python"
bash scripts/ci/python.sh "$B_GCC"
pass

# ---- h2. reliability: fuzzing, allocation failures, races ------------------------
step "h2-fuzz"
bash scripts/ci/fuzz.sh "${FUZZ_SECONDS:-20}"
pass
step "h3-fault"
bash scripts/ci/fault.sh
pass
step "h4-tsan"
bash scripts/ci/tsan.sh
pass

# ---- h5. the MPI library (libhilander_mpi) -------------------------------------------
step "h5-mpi"
bash scripts/ci/mpi.sh "$BUILD_PREFIX-mpi"
pass

# ---- i. other BLAS ----------------------------------------------------------------
step "i-blas"
bash scripts/ci/blas.sh "$BUILD_PREFIX"
pass

# ---- j. Debian packages -----------------------------------------------------------
step "j-deb"
bash scripts/ci/deb.sh
pass
exit 0
}

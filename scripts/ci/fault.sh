#!/usr/bin/env bash
# Allocation-failure sweep (tests/fault/test_alloc_fail.c) under ASan+UBSan.
#
#   bash scripts/ci/fault.sh
#
# Builds the library with -DHL_FAULT_INJECTION=ON (hli_alloc/hli_calloc fail
# the Nth allocation on request) and -DHL_SANITIZE=ON in build-fault/
# (BUILD_FAULT overrides), then runs the sweep: for every allocation of a
# small kNN, graph, clustering (each score, the oracle, a model), training,
# model save/load and file read/write, that allocation fails and the call
# must return HL_ENOMEM with hl_last_error set, leave no leak, no temporary
# file and the old file intact, or return HL_OK with exactly the clean result.
{
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
JOBS=${JOBS:-2}
B=${BUILD_FAULT:-build-fault}
bash scripts/install_deps.sh gcc cmake make libopenblas-dev check pkg-config >/dev/null
cmake -S . -B "$B" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHL_WERROR=ON -DHL_SANITIZE=ON \
    -DHL_FAULT_INJECTION=ON -DHL_BUILD_EXAMPLES=OFF -DHL_BUILD_BENCH=OFF >/dev/null
cmake --build "$B" -j "$JOBS" --target test_alloc_fail
export ASAN_OPTIONS="detect_leaks=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export CK_FORK=no OPENBLAS_NUM_THREADS=1
T0=$(date +%s)
if ! "$B/tests/test_alloc_fail"; then
    echo "fault.sh: FAILED (see the messages above)" >&2
    exit 1
fi
echo "fault.sh: allocation-failure sweep clean in $(( $(date +%s) - T0 ))s"
exit 0
}

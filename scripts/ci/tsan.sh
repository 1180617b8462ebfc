#!/usr/bin/env bash
# ThreadSanitizer run of the suites that use threads.
#
#   bash scripts/ci/tsan.sh
#
# Builds the library and the thread suites with clang -fsanitize=thread in
# build-tsan/ (BUILD_TSAN overrides) and runs them with OpenBLAS at one
# thread.  The OpenMP loops run on LLVM's libomp with its ThreadSanitizer
# tool Archer loaded (OMP_TOOL_LIBRARIES=libarcher.so), which tells TSan
# about OpenMP's barriers and tasks so that they are not reported as races.
# Any TSan report fails the run (halt_on_error=1, exitcode 66).
{
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
JOBS=${JOBS:-2}
B=${BUILD_TSAN:-build-tsan}
SUITES=(test_threads test_core test_model test_cluster test_knn test_collection)
bash scripts/install_deps.sh clang libclang-rt-14-dev libomp-dev cmake make libopenblas-dev check pkg-config >/dev/null
# Only the static archive and the suites: clang does not link the TSan
# runtime into a shared library, so the .so is not built here.
cmake -S . -B "$B" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHL_WERROR=ON \
    -DHL_BUILD_EXAMPLES=OFF -DHL_BUILD_BENCH=OFF \
    -DCMAKE_C_FLAGS="-fsanitize=thread -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build "$B" -j "$JOBS" --target "${SUITES[@]}"
export OPENBLAS_NUM_THREADS=1 CK_FORK=no
ARCHER=$(ls /usr/lib/llvm-*/lib/libarcher.so 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$ARCHER" ] || { echo "tsan.sh: libarcher.so (LLVM's OpenMP TSan tool) not found; install libomp-dev" >&2; exit 1; }
export OMP_TOOL_LIBRARIES="$ARCHER" ARCHER_OPTIONS="verbose=0"
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:ignore_noninstrumented_modules=1"
T0=$(date +%s)
for t in "${SUITES[@]}"; do
    t1=$(date +%s)
    if ! "$B/tests/$t" >"$B/$t.log" 2>&1; then
        tail -n 60 "$B/$t.log" >&2
        echo "tsan.sh: FAILED: $t (log: $B/$t.log)" >&2
        exit 1
    fi
    echo "tsan.sh: $t clean ($(( $(date +%s) - t1 ))s)"
done
echo "tsan.sh: ${#SUITES[@]} suites clean under ThreadSanitizer in $(( $(date +%s) - T0 ))s"
exit 0
}

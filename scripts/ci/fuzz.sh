#!/usr/bin/env bash
# Fuzz the file readers with libFuzzer (tests/fuzz/).
#
#   bash scripts/ci/fuzz.sh [seconds-per-target]     (default 35: eight targets in about 5 minutes; 0 = replay only)
#
# Builds the fuzz targets with clang -fsanitize=fuzzer,address,undefined in
# build-fuzz/ (BUILD_FUZZ overrides), replays every committed seed corpus
# (tests/fuzz/corpus/<target>/) and then fuzzes each target for the given
# time, with its dictionary.  New inputs go to a scratch corpus in the build
# dir, never into the tree.  A crash, leak, sanitizer report or failed
# property stops the script; the reproducer is written to
# build-fuzz/artifacts/ and the script prints the command that replays it.
#
# Long run (what docs/TESTING.md reports):
#   FUZZ_JOBS=2 bash scripts/ci/fuzz.sh 600
{
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SECS=${1:-35}
JOBS=${JOBS:-2}
B=${BUILD_FUZZ:-build-fuzz}
TARGETS=(fuzz_npy_f32 fuzz_npy_labels fuzz_lc_bin fuzz_lc_meta fuzz_model_load fuzz_model_load_crc
         fuzz_collection_load fuzz_collection_load_crc)
declare -A DICT=([fuzz_npy_f32]=npy.dict [fuzz_npy_labels]=npy.dict [fuzz_lc_meta]=meta.dict
                 [fuzz_model_load]=model.dict [fuzz_model_load_crc]=model.dict
                 [fuzz_collection_load]=collection.dict [fuzz_collection_load_crc]=collection.dict)

bash scripts/install_deps.sh clang libclang-rt-14-dev cmake make libopenblas-dev pkg-config >/dev/null

# Only the static archive and the targets: clang does not link the ASan
# runtime into a shared library, so the .so is not built here.
cmake -S . -B "$B" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHL_WERROR=ON -DHL_FUZZ=ON \
    -DHL_BUILD_TESTS=OFF -DHL_BUILD_EXAMPLES=OFF -DHL_BUILD_BENCH=OFF >/dev/null
cmake --build "$B" -j "$JOBS" --target "${TARGETS[@]}"

# The inputs are written to a private file per target: tmpfs when there is one.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$B/artifacts"
T0=$(date +%s)
for t in "${TARGETS[@]}"; do
    bin="$B/tests/fuzz/$t"
    seeds="tests/fuzz/corpus/$t"
    [ -d "$seeds" ] || { echo "fuzz.sh: no seed corpus $seeds" >&2; exit 1; }
    dict=()
    [ -n "${DICT[$t]:-}" ] && dict=(-dict="tests/fuzz/${DICT[$t]}")
    log="$B/$t.log"
    # 1. replay the committed seeds (and any scratch corpus from earlier runs)
    echo "fuzz.sh: $t: replaying $(ls "$seeds" | wc -l) seeds"
    if ! "$bin" -runs=0 "$seeds" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz.sh: FAILED replaying the seeds of $t (log: $log)" >&2
        exit 1
    fi
    [ "$SECS" -gt 0 ] || continue
    # 2. fuzz for SECS seconds
    work="$B/corpus/$t"
    mkdir -p "$work"
    if ! "$bin" "${dict[@]}" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
            -print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" "$work" "$seeds" >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        art=$(ls -t "$B/artifacts/$t-"* 2>/dev/null | head -n 1 || true)
        echo "fuzz.sh: FAILED: $t found a problem; reproduce with: $bin ${art:-<artifact>}" >&2
        exit 1
    fi
    runs=$(awk '/number_of_executed_units/ {print $2}' "$log")
    rate=$(awk '/average_exec_per_sec/ {print $2}' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
    echo "fuzz.sh: $t: ${runs:-?} inputs in ${SECS}s (${rate:-?}/s), ${cov:-cov: ?} edges, corpus $(ls "$work" | wc -l) files"
done
echo "fuzz.sh: all ${#TARGETS[@]} targets clean in $(( $(date +%s) - T0 ))s"
exit 0
}

#!/usr/bin/env bash
# The public ABI against the stored baselines (abigail-tools: abidw, abidiff).
#
#   bash scripts/ci/abi.sh [BUILD_DIR]           check (CI)
#   bash scripts/ci/abi.sh --update [BUILD_DIR]  write abi/libhilander-<version>.abi
#
# Builds the shared library with debug information (type data for abidw) in
# BUILD_DIR (default build-abi), then:
#  1. every function declared HL_API in include/ is exported, and nothing else;
#  2. the current release's baseline abi/libhilander-<version>.abi exists and
#     abidiff finds no difference at all: an addition needs the baseline
#     updated (--update) in the same commit, with a version bump and a new
#     symbol-version node (docs/API.md, "Changing the ABI");
#  3. every older baseline in abi/ is compatible with the current library:
#     abidiff may report additions and structs grown at the end
#     (abi/suppressions.ini), never an incompatible change.
set -euo pipefail
cd "$(dirname "$0")/../.."
UPDATE=0
if [ "${1:-}" = --update ]; then UPDATE=1; shift; fi
B=${1:-build-abi}
command -v abidw >/dev/null || bash scripts/install_deps.sh abigail-tools
# Debug paths relative to the source tree, so that no machine path enters a baseline.
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="-fdebug-prefix-map=$PWD=." -DHL_BUILD_TESTS=OFF -DHL_BUILD_BENCH=OFF \
    -DHL_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$B" -j "${JOBS:-2}" --target hilander >/dev/null
LIB=$(readlink -f "$B/libhilander.so")
VERSION=$(sed -n 's/^project(hilander VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
BASE="abi/libhilander-$VERSION.abi"
dump() { abidw --no-corpus-path --no-show-locs --no-comp-dir-path --headers-dir include/hilander --headers-dir include "$LIB"; }
CUR="$B/libhilander-current.abi"

# 1. exported functions == HL_API declarations
declared=$(grep -ho '^HL_API [^(]*(' include/hilander/*.h | sed 's/($//' | awk '{print $NF}' | sed 's/^\*//' | sort -u)
exported=$(nm -D --defined-only "$LIB" | awk '$2 == "T" {print $3}' | sed 's/@.*//' | sort -u)
if [ "$declared" != "$exported" ]; then
    echo "abi.sh: exported functions differ from the HL_API declarations:" >&2
    diff <(echo "$declared") <(echo "$exported") >&2 || true
    echo "(a new function needs an entry under a new node in lib/hilander.map)" >&2
    exit 1
fi
echo "abi.sh: $(echo "$exported" | wc -l) functions exported, all declared HL_API"

if [ "$UPDATE" = 1 ]; then
    dump > "$BASE"
    echo "abi.sh: wrote $BASE; commit it with the version bump and the new symbol node"
    exit 0
fi

dump > "$CUR"

# 2. the current release's baseline, exactly
[ -f "$BASE" ] || { echo "abi.sh: no baseline $BASE for version $VERSION (run: bash scripts/ci/abi.sh --update)" >&2; exit 1; }
rc=0
abidiff "$BASE" "$CUR" > "$B/abidiff-current.txt" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
    cat "$B/abidiff-current.txt" >&2
    if [ $((rc & 8)) -ne 0 ]; then
        echo "abi.sh: INCOMPATIBLE change against $BASE: not allowed within major version 0 of libhilander.so.0" >&2
    else
        echo "abi.sh: the ABI changed against $BASE; if the change is an addition, bump the version," \
             "add a symbol-version node and run: bash scripts/ci/abi.sh --update" >&2
    fi
    exit 1
fi
echo "abi.sh: identical to $BASE"

# 3. older releases: additions and appended struct members only
for old in abi/libhilander-*.abi; do
    [ "$old" = "$BASE" ] && continue
    rc=0
    abidiff --suppressions abi/suppressions.ini "$old" "$CUR" > "$B/abidiff-old.txt" 2>&1 || rc=$?
    if [ $((rc & 8)) -ne 0 ] || [ $((rc & 3)) -ne 0 ]; then
        cat "$B/abidiff-old.txt" >&2
        echo "abi.sh: the current library is not compatible with $old" >&2
        exit 1
    fi
    echo "abi.sh: compatible with $old ($( [ $((rc & 4)) -ne 0 ] && echo 'additions only' || echo identical))"
done

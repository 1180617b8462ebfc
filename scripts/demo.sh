#!/usr/bin/env bash
# Set up a fresh Debian machine and run the demo:
#   installs the build dependencies (apt, skipped when present), builds
#   libhilander in ./build (Release) and runs `hilander demo`, which trains a
#   model on the bundled Omniglot train split, clusters the unseen test split
#   and prints the scores beside unsupervised baselines.
#
#   bash scripts/demo.sh            # from anywhere; BUILD_DIR=... to change ./build
# The body is one { ... } block so that bash parses it completely before running:
# editing this file (e.g. a git pull) while it runs cannot change what runs.
{
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

trap 'rc=$?; [ $rc -eq 0 ] || echo "demo.sh: FAILED (exit $rc)" >&2' EXIT

bash scripts/install_deps.sh cmake make gcc libc6-dev binutils clang libopenblas-dev check pkg-config python3

echo "demo.sh: configuring and building ($BUILD_DIR, Release)"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
cmake --build "$BUILD_DIR" -j "$JOBS"

CLI="$BUILD_DIR/tools/hilander/hilander"
if [ ! -x "$CLI" ]; then
    echo "demo.sh: ERROR: $CLI was not built" >&2
    exit 1
fi
echo "demo.sh: running $CLI demo"
"$CLI" demo
echo "demo.sh: done"
exit 0
}

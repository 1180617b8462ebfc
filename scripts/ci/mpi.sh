#!/usr/bin/env bash
# CI step: libhilander_mpi (lib/mpi, docs/DISTRIBUTED.md).
#   1. install Open MPI (Debian libopenmpi-dev, openmpi-bin);
#   2. configure BUILD_DIR (default build-mpi) with -DHL_MPI=ON -DHL_WERROR=ON and build;
#   3. ctest -R mpi: hl_mpi_cluster against hl_cluster under 1, 2 and 4 ranks
#      (--oversubscribe), bad input on one rank, the IVF recall, the CLI;
#   4. libhilander_mpi.so exports only hl_mpi_* under HILANDER_MPI_0.x, exactly
#      the HL_MPI_API declarations of mpi.h, SONAME libhilander_mpi.so.0, and
#      the core libhilander.so does not link MPI;
#   5. install into a temporary prefix; a consumer built with pkg-config
#      (hilander_mpi) and with find_package(hilander) (hilander::hilander_mpi)
#      runs under mpiexec -n 2.
#
#   bash scripts/ci/mpi.sh [BUILD_DIR]
# Environment: JOBS (default 2), SKIP_DEPS=1.  Open MPI refuses to run as
# root unless told: OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM) are set here.
{
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
B=${1:-build-mpi}
JOBS=${JOBS:-2}
T0=$(date +%s)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hilander-mpi.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
die() { echo "mpi.sh: ERROR: $*" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

if [ "${SKIP_DEPS:-0}" != 1 ]; then
    bash scripts/install_deps.sh libopenmpi-dev openmpi-bin
fi
echo "mpi.sh: $(mpiexec --version | head -n 1)"

cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DHL_WERROR=ON -DHL_MPI=ON >"$TMP/cmake.log" \
    || { cat "$TMP/cmake.log"; die "configure failed"; }
cmake --build "$B" -j "$JOBS"
(cd "$B" && ctest --output-on-failure -R mpi)

LIB=$(readlink -f "$B/libhilander_mpi.so")
bad=$(nm -D --defined-only "$LIB" | awk '{print $NF}' | sed 's/@.*//' | grep -v -E '^(hl_mpi_[A-Za-z0-9_]+|HILANDER_MPI_0\.[0-9]+)$' || true)
[ -z "$bad" ] || die "libhilander_mpi.so exports symbols outside hl_mpi_: $(echo $bad)"
unversioned=$(nm -D --defined-only "$LIB" | awk '$NF ~ /^hl_/ && $NF !~ /@@HILANDER_MPI_0\.[0-9]+$/ {print $NF}')
[ -z "$unversioned" ] || die "symbols outside a HILANDER_MPI_0.x node: $(echo $unversioned)"
declared=$(grep -ho '^HL_MPI_API [^(]*(' include/hilander/mpi.h | sed 's/($//' | awk '{print $NF}' | sed 's/^\*//' | sort -u)
exported=$(nm -D --defined-only "$LIB" | awk '$2 == "T" {print $3}' | sed 's/@.*//' | sort -u)
[ "$declared" = "$exported" ] || { diff <(echo "$declared") <(echo "$exported") >&2 || true
    die "libhilander_mpi.so's exports differ from the HL_MPI_API declarations (lib/mpi/hilander_mpi.map)"; }
soname=$(objdump -p "$LIB" | awk '$1 == "SONAME" {print $2}')
[ "$soname" = "libhilander_mpi.so.0" ] || die "SONAME is '$soname', expected libhilander_mpi.so.0"
if objdump -p "$(readlink -f "$B/libhilander.so")" | grep NEEDED | grep -q -i mpi; then
    die "the core libhilander.so links MPI"
fi
echo "mpi.sh: libhilander_mpi.so exports $(nm -D --defined-only "$LIB" | grep -c ' T hl_mpi_') hl_mpi_ functions, SONAME $soname"

PREFIX="$TMP/prefix"
cmake --install "$B" --prefix "$PREFIX" >"$TMP/install.log" || { cat "$TMP/install.log"; die "install failed"; }
PCDIR=$(dirname "$(find "$PREFIX" -name hilander_mpi.pc | head -n 1)")
LIBDIR=$(dirname "$(find "$PREFIX" -name 'libhilander_mpi.so.0' | head -n 1)")
[ -x "$PREFIX/bin/hilander-mpi" ] || die "bin/hilander-mpi not installed"
FLAGS=$(PKG_CONFIG_PATH="$PCDIR" pkg-config --cflags --libs hilander_mpi)
echo "pkg-config --cflags --libs hilander_mpi: $FLAGS"
# shellcheck disable=SC2086
cc -std=c11 -Wall -Wextra -Werror tests/mpi/consumer/mpi_consumer.c -o "$TMP/consumer_pc" $FLAGS -Wl,-rpath,"$LIBDIR"
mpiexec -n 2 "$TMP/consumer_pc"
cmake -S tests/mpi/consumer -B "$TMP/consumer-build" -DCMAKE_PREFIX_PATH="$PREFIX" -DCMAKE_BUILD_TYPE=Release \
    >"$TMP/consumer-cmake.log" || { cat "$TMP/consumer-cmake.log"; die "configuring the CMake consumer failed"; }
cmake --build "$TMP/consumer-build" >"$TMP/consumer-build.log" || { cat "$TMP/consumer-build.log"; die "building the CMake consumer failed"; }
mpiexec -n 2 "$TMP/consumer-build/mpi_consumer"
"$PREFIX/bin/hilander-mpi" --help >/dev/null
echo "mpi.sh: OK in $(( $(date +%s) - T0 ))s"
exit 0
}

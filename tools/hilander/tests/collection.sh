#!/bin/sh
# CTest hilander_collection: `hilander collection` on subsets of the bundled
# Omniglot features (docs/CLI.md, "collection"): create, add, remove, info and
# export work and agree with each other; refused inputs exit 65 (data) or 2
# (usage) and leave the collection file byte-identical; a collection is
# refused with another model than its own, or without it.
#   sh collection.sh HILANDER DATA_DIR SCRATCH_DIR
# The conditions given to check() are evaluated there, hence single-quoted:
# shellcheck disable=SC2016
set -u
H=$1
D=$2
T=$3
fail=0
case $H in /*) ;; *) H=$(pwd)/$H ;; esac
[ -f "$D/test_features.npy" ] || { echo "collection: bundled data missing in $D" >&2; exit 1; }
rm -rf "$T" && mkdir -p "$T" || exit 1

# expect STATUS [STDERR-SUBSTRING] -- ARGS...   (stdout in $T/out, stderr in $T/err)
expect() {
    want=$1
    shift
    pattern=
    if [ "$1" != "--" ]; then
        pattern=$1
        shift
    fi
    shift
    "$H" "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: hilander $* exited $got, expected $want; stderr:" >&2
        cat "$T/err" >&2
        fail=1
    elif [ -n "$pattern" ] && ! grep -q -- "$pattern" "$T/err"; then
        echo "FAIL: hilander $*: stderr lacks '$pattern':" >&2
        cat "$T/err" >&2
        fail=1
    else
        echo "ok   $want  hilander $*"
    fi
}

# expect_untouched FILE STATUS [STDERR-SUBSTRING] -- ARGS...: as expect, and FILE unchanged.
expect_untouched() {
    f=$1
    shift
    cp "$f" "$T/before" || exit 1
    expect "$@"
    if ! cmp -s "$f" "$T/before"; then
        echo "FAIL: a refused call changed $f" >&2
        fail=1
    fi
}

# value KEY: the first number after "KEY:" in the last stdout.
value() {
    sed -n "s/^$1: *\([0-9-]*\).*/\1/p" "$T/out" | head -n 1
}

# started_points: the points in the clusters an add started ("started: S clusters (P points)").
started_points() {
    sed -n 's/^started: *[0-9]* clusters (\([0-9]*\) points).*/\1/p' "$T/out" | head -n 1
}

# check WHAT 'SHELL CONDITION': report a failed condition.
check() {
    what=$1
    if eval "$2"; then
        echo "ok      $what"
    else
        echo "FAIL: $what" >&2
        fail=1
    fi
}

# Subsets of the bundled features, written as .npy with the standard library only.
python3 - "$D" "$T" <<'PY' || exit 1
import struct, sys
src, out = sys.argv[1], sys.argv[2]

def body(path):
    b = open(path, "rb").read()
    return b[10 + struct.unpack("<H", b[8:10])[0]:]

def npy(name, descr, shape, data):
    hdr = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    hdr += " " * (118 - len(hdr)) + "\n"
    open(out + "/" + name, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + data)

x = body(src + "/test_features.npy")  # float32 (6580, 128)
row = 128 * 4
npy("first.npy", "<f4", "(400, 128)", x[:400 * row])
npy("batch.npy", "<f4", "(200, 128)", x[400 * row:600 * row])
npy("one.npy", "<f4", "(1, 128)", x[600 * row:601 * row])
npy("three.npy", "<f4", "(3, 128)", x[601 * row:604 * row])
npy("dim64.npy", "<f4", "(20, 64)", b"".join(x[i * row:i * row + 256] for i in range(20)))
nan = bytearray(x[700 * row:720 * row])
nan[5 * row + 12:5 * row + 16] = struct.pack("<f", float("nan"))
npy("nan.npy", "<f4", "(20, 128)", bytes(nan))
npy("ids.npy", "<i8", "(2,)", struct.pack("<2q", 10, 11))
npy("first385.npy", "<i8", "(385,)", struct.pack("<385q", *range(385)))
tx, ty = body(src + "/train_features.npy"), body(src + "/train_labels.npy")
npy("train_x.npy", "<f4", "(600, 128)", tx[:600 * row])
npy("train_y.npy", "<i4", "(600,)", ty[:600 * 4])
PY

C=$T/c.hlc
# ---- create, add, export ------------------------------------------------------
expect 0 -- collection --help
for a in create add remove info export; do
    expect 0 -- collection "$a" --help
done
expect 0 -- collection create "$T/first.npy" -o "$C" --threads 2
check "create: 400 points" '[ "$(value total)" = 400 ]'
expect 0 -- collection info "$C"
check "info: 400 points, id bound 400" \
    '[ "$(value points)" = 400 ] && [ "$(value "id bound")" = 400 ]'
c0=$(value clusters)
# the first batch is clustered as `hilander cluster` clusters it (one level, linkage merge)
expect 0 -- cluster --features "$T/first.npy" --labels-out "$T/ref.npy"
expect 0 -- collection export "$C" -o "$T/first_labels.npy"
python3 - "$T/ref.npy" "$T/first_labels.npy" <<'PY' || fail=1
import struct, sys

def labels(path):
    b = open(path, "rb").read()
    data = b[10 + struct.unpack("<H", b[8:10])[0]:]
    return struct.unpack("<%dq" % (len(data) // 8), data)

ref, got = labels(sys.argv[1]), labels(sys.argv[2])
pairs = set(zip(ref, got))
if len(ref) != 400 or len(got) != 400 or len(pairs) != len(set(ref)) or len(pairs) != len(set(got)):
    sys.exit("FAIL: the first batch's clusters (%d) are not those of hilander cluster (%d)"
             % (len(set(got)), len(set(ref))))
print("ok      create: the %d clusters of hilander cluster, up to renumbering" % len(set(ref)))
PY

expect 0 -- collection add "$C" "$T/batch.npy" --threads 1
cat "$T/out"
joined=$(value joined)
started_pts=$(started_points)
check "add: 200 points with ids 400..599" '[ "$(value added)" = 200 ] && grep -q "ids 400\.\.599" "$T/out"'
check "add: joined ($joined) + points in started clusters ($started_pts) = 200" \
    '[ $((joined + started_pts)) = 200 ]'
check "add: the labels agree with the library's counts (no warning)" '[ ! -s "$T/err" ]'
check "add: 600 points" '[ "$(value total)" = 600 ]'

expect 0 -- collection add "$C" "$T/one.npy"
check "add one row: joined + started points = 1" \
    '[ $(($(value joined) + $(started_points))) = 1 ]'

expect 0 -- collection info "$C" --top 3
clusters=$(value clusters)
issued=$(sed -n 's/^cluster ids: *\([0-9]*\) issued.*/\1/p' "$T/out")
check "info: 601 points, $clusters clusters (400 points had $c0), $issued cluster ids" \
    '[ "$(value points)" = 601 ] && [ "$clusters" -ge 1 ] && [ "$issued" -ge "$clusters" ]'
check "info: 3 largest clusters listed" \
    '[ "$(grep -c "^ *[0-9][0-9]* *[0-9][0-9]* *[0-9][0-9]*\$" "$T/out")" = 3 ]'

expect 0 -- collection export "$C" -o "$T/l.npy" --confidence-out "$T/conf.npy" --clusters-out "$T/s.npy"
# the exported arrays: shapes, labels in range, sizes that count the labels
python3 - "$T" 601 "$clusters" "$issued" <<'PY' || fail=1
import struct, sys
t, n, live, issued = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def load(name, descr, shape):
    b = open(t + "/" + name, "rb").read()
    hl = struct.unpack("<H", b[8:10])[0]
    hdr = b[10:10 + hl].decode()
    want = "'descr': '%s', 'fortran_order': False, 'shape': %s" % (descr, shape)
    if want not in hdr:
        sys.exit("FAIL: %s header %r, expected %s" % (name, hdr, want))
    return b[10 + hl:]

lab = struct.unpack("<%dq" % n, load("l.npy", "<i8", "(%d,)" % n))
conf = struct.unpack("<%df" % n, load("conf.npy", "<f4", "(%d, 1)" % n))
tab = struct.unpack("<%dq" % (3 * issued), load("s.npy", "<i8", "(%d, 3)" % issued))
if not all(0 <= c < issued for c in lab):
    sys.exit("FAIL: a label outside [0, %d)" % issued)
if not all(0.0 <= c <= 1.0 for c in conf):
    sys.exit("FAIL: a confidence outside [0, 1]")
sizes = [tab[3 * c] for c in range(issued)]
for c in range(issued):
    if lab.count(c) != sizes[c]:
        sys.exit("FAIL: cluster %d has %d labels but size %d" % (c, lab.count(c), sizes[c]))
    if sizes[c] > 0 and (tab[3 * c + 2] != c or lab[tab[3 * c + 1]] != c):
        sys.exit("FAIL: cluster %d: representative %d, merged_into %d" % (c, tab[3 * c + 1], tab[3 * c + 2]))
if len(set(lab)) != live:
    sys.exit("FAIL: %d distinct labels, info says %d clusters" % (len(set(lab)), live))
print("ok      export: %d labels in %d clusters, sizes and representatives consistent" % (n, live))
PY

# ---- remove ---------------------------------------------------------------------
expect 0 -- collection remove "$C" --id 3 --id 7,8
check "remove: 3 points removed, 598 left" '[ "$(value removed)" = 3 ] && [ "$(value total)" = 598 ]'
after=$(sed -n 's/^total: .* points in \([0-9]*\) clusters.*/\1/p' "$T/out")
check "remove: clusters before ($clusters) - after ($after) = emptied + merged - started" \
    '[ $((clusters - after)) = $(($(value emptied) + $(value merged) - $(value started))) ] && [ "$(value emptied)" -ge 0 ]'
expect 0 -- collection remove "$C" --ids "$T/ids.npy"
check "remove --ids: 2 points removed" '[ "$(value removed)" = 2 ]'
expect 0 -- collection export "$C" -o "$T/l.npy"
python3 - "$T/l.npy" <<'PY' || fail=1
import struct, sys
b = open(sys.argv[1], "rb").read()
lab = struct.unpack("<601q", b[10 + struct.unpack("<H", b[8:10])[0]:])
gone = [i for i, c in enumerate(lab) if c == -1]
if gone != [3, 7, 8, 10, 11]:
    sys.exit("FAIL: removed ids %s, expected [3, 7, 8, 10, 11]" % gone)
print("ok      export after remove: ids 3, 7, 8, 10, 11 labelled -1")
PY

# ---- refused calls leave the file as it was ---------------------------------------
expect_untouched "$C" 65 "64 columns" -- collection add "$C" "$T/dim64.npy"
expect_untouched "$C" 65 "not finite" -- collection add "$C" "$T/nan.npy"
expect_untouched "$C" 1 "cannot read features" -- collection add "$C" "$T/missing.npy"
expect_untouched "$C" 65 -- collection remove "$C" --id 3
expect_untouched "$C" 65 -- collection remove "$C" --id 100000
expect_untouched "$C" 65 -- collection remove "$C" --id 20 --id 20
expect_untouched "$C" 2 "not both" -- collection remove "$C" --ids "$T/ids.npy" --id 1
expect_untouched "$C" 2 "--id needs" -- collection remove "$C" --id -1

# ---- usage errors ------------------------------------------------------------------
expect 2 -- collection
expect 2 "unknown action" -- collection frobnicate
expect 2 "missing FEATURES.npy" -- collection create -o "$T/x.hlc"
expect 2 "-o COLL is required" -- collection create "$T/first.npy"
expect 2 "needs COLL and BATCH.npy" -- collection add "$C"
expect 2 "is required" -- collection remove "$C"
expect 2 "-o L.npy is required" -- collection export "$C"
expect 2 "--score prob needs --model" -- collection create "$T/first.npy" -o "$T/x.hlc" --score prob
expect 2 "unknown option" -- collection info "$C" --bogus
[ ! -e "$T/x.hlc" ] || { echo "FAIL: a refused create wrote $T/x.hlc" >&2; fail=1; }

# ---- collections smaller than k (10): one point, then three, then a removal ------------
CS=$T/small.hlc
expect 0 -- collection create "$T/one.npy" -o "$CS"
check "small: 1 point in 1 cluster" '[ "$(value total)" = 1 ] && [ "$(value started)" = 1 ]'
expect 0 -- collection add "$CS" "$T/three.npy"
check "small: 4 points" '[ "$(value total)" = 4 ] && [ $(($(value joined) + $(started_points))) = 3 ]'
expect 0 -- collection remove "$CS" --id 0
check "small: 3 points left" '[ "$(value total)" = 3 ]'
expect 0 -- collection info "$CS"
check "small: the saved file reloads with 3 points" '[ "$(value points)" = 3 ]'
expect 0 -- collection remove "$CS" --id 1,2,3
expect 0 -- collection info "$CS"
check "small: every point removed, no cluster left" '[ "$(value points)" = 0 ] && [ "$(value clusters)" = 0 ]'
expect 0 -- collection add "$CS" "$T/three.npy"
check "small: ids go on after removals (4..6)" 'grep -q "ids 4\.\.6" "$T/out"'

# a collection of 400 points reduced to 15 (more than k) stays loadable
CR=$T/reduced.hlc
expect 0 -- collection create "$T/first.npy" -o "$CR"
expect 0 -- collection remove "$CR" --ids "$T/first385.npy"
expect 0 -- collection info "$CR"
check "reduced: the saved file reloads with 15 points" '[ "$(value points)" = 15 ]'

# ---- broken files ------------------------------------------------------------------
size=$(wc -c <"$C")
head -c $((size / 2)) "$C" >"$T/half.hlc"
head -c $((size - 1)) "$C" >"$T/short.hlc"
expect 65 "cannot load collection" -- collection info "$T/half.hlc"
expect 65 "cannot load collection" -- collection info "$T/short.hlc"
expect 65 "cannot load collection" -- collection info "$T/first.npy"
: >"$T/empty.hlc"
expect 65 "cannot load collection" -- collection info "$T/empty.hlc"
expect 1 "cannot load collection" -- collection info "$T/missing.hlc"
expect_untouched "$T/half.hlc" 65 -- collection add "$T/half.hlc" "$T/batch.npy"

# ---- a collection belongs to its model ------------------------------------------------
expect 0 -- train --features "$T/train_x.npy" --labels "$T/train_y.npy" --model-out "$T/A.hlm" \
    --epochs 1 --hidden 16 --whiten 0 --seed 1 --quiet
expect 0 -- train --features "$T/train_x.npy" --labels "$T/train_y.npy" --model-out "$T/B.hlm" \
    --epochs 1 --hidden 16 --whiten 0 --seed 2 --quiet
CA=$T/a.hlc
expect 0 -- collection create "$T/first.npy" -o "$CA" --model "$T/A.hlm"
expect 0 -- collection add "$CA" "$T/batch.npy" --model "$T/A.hlm"
check "model collection: joined + points in started clusters = 200" \
    '[ $(($(value joined) + $(started_points))) = 200 ]'
expect_untouched "$CA" 65 "cannot load collection" -- collection add "$CA" "$T/batch.npy" --model "$T/B.hlm"
expect_untouched "$CA" 65 "cannot load collection" -- collection add "$CA" "$T/batch.npy"
expect 65 "cannot load collection" -- collection info "$CA"
expect_untouched "$C" 65 "cannot load collection" -- collection add "$C" "$T/batch.npy" --model "$T/A.hlm"
expect 65 "cannot load collection" -- collection export "$CA" -o "$T/la.npy" --model "$T/B.hlm"
expect 0 -- collection info "$CA" --model "$T/A.hlm"
check "model collection: 600 points" '[ "$(value points)" = 600 ]'
expect 65 "cannot load model" -- collection info "$CA" --model "$T/first.npy"

stray=
for f in "$T"/* "$T"/.[!.]*; do
    [ -e "$f" ] || continue
    case ${f##*/} in out | err | before | *.npy | *.hlc | *.hlm) ;; *) stray="$stray ${f##*/}" ;; esac
done
check "no temporary file left behind ($stray)" '[ -z "$stray" ]'
[ $fail = 0 ] && rm -rf "$T" && echo "collection: all passed"
exit $fail

#!/bin/sh
# CTest hilander_exit_codes: the exit status of bad invocations (docs/CLI.md):
# 0 success, 2 usage error, 65 data error, 1 runtime error.
#   sh exit_codes.sh HILANDER DATA_DIR SCRATCH_DIR
set -u
H=$1
D=$2
T=$3
fail=0
case $H in /*) ;; *) H=$(pwd)/$H ;; esac
[ -f "$D/test_features.npy" ] || { echo "exit_codes: bundled data missing in $D" >&2; exit 1; }
rm -rf "$T" && mkdir -p "$T" || exit 1

# expect STATUS [STDERR-SUBSTRING] -- ARGS...
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

F=$D/test_features.npy
Y=$D/test_labels.npy
# success
expect 0 -- --help
expect 0 -- --version
for c in knn train cluster eval demo; do
    expect 0 -- "$c" --help
done
expect 0 -- eval --labels "$Y" --pred "$Y"
expect 0 -- cluster --features "$F" --labels-out "$T/ok.npy" --confidence-out "$T/conf.npy"
# the confidence file: a float32 (6580, 1) .npy
head -c 128 "$T/conf.npy" | grep -q "'descr': '<f4'.*'shape': (6580, 1)" ||
    { echo "FAIL: --confidence-out wrote no float32 (6580, 1) array" >&2; fail=1; }
rm -f "$T/ok.npy" "$T/conf.npy"
# usage errors (2)
expect 2 -- ""
expect 2 "unknown command" -- frobnicate
expect 2 "unknown option '--bogus'" -- cluster --bogus
expect 2 "unknown option '-x'" -- knn -x
expect 2 "--tau must be" -- cluster --features "$F" --labels-out "$T/l.npy" --tau 1.5
expect 2 "--tau must be" -- cluster --features "$F" --labels-out "$T/l.npy" --tau
expect 2 "--json takes no value" -- eval --labels "$Y" --pred "$Y" --json=1
expect 2 "unexpected argument" -- eval extra --labels "$Y" --pred "$Y"
expect 2 "are required" -- cluster --features "$F"
expect 2 "--oracle needs --truth" -- cluster --features "$F" --labels-out "$T/l.npy" --oracle
expect 2 "--score prob needs --model" -- cluster --features "$F" --labels-out "$T/l.npy" --score prob
expect 2 "--method must be" -- knn "$F" -k 5 --out-nbrs "$T/n.npy" --out-sims "$T/s.npy" --method fast
expect 2 "missing -k" -- knn "$F" --out-nbrs "$T/n.npy" --out-sims "$T/s.npy"
expect 65 "must be <= the number of rows" -- knn "$F" -k 100000 --out-nbrs "$T/n.npy" --out-sims "$T/s.npy"
expect 2 "must be given together" -- train --features "$F" --labels "$Y" --model-out "$T/m.hlm" --k 10,5 --levels 2
expect 2 "--lr needs a positive number" -- train --features "$F" --labels "$Y" --model-out "$T/m.hlm" --lr 0
expect 2 "--val-fraction must be" -- train --features "$F" --labels "$Y" --model-out "$T/m.hlm" --val-fraction 1
expect 65 "labels but" -- eval --labels "$Y" --pred "$D/train_labels.npy"
expect 65 "cannot read features" -- cluster --features "$Y" --labels-out "$T/l.npy"
expect 65 "cannot load model" -- cluster --model "$F" --features "$F" --labels-out "$T/l.npy"
# data errors (65)
python3 - "$T/nan.npy" <<'PY' || exit 1
import struct, sys
hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"
hdr += " " * (118 - len(hdr)) + "\n"
data = [0.5] * 80
data[13] = float("nan")
open(sys.argv[1], "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr.encode() + struct.pack("<80f", *data))
PY
expect 65 "not finite" -- cluster --features "$T/nan.npy" --labels-out "$T/l.npy" --k 3
# runtime errors (1)
expect 1 "cannot read features" -- cluster --features "$T/missing.npy" --labels-out "$T/l.npy"
expect 1 "cannot load model" -- cluster --model "$T/missing.hlm" --features "$F" --labels-out "$T/l.npy"
expect 1 -- cluster --features "$F" --labels-out "$T/no/such/dir/l.npy"
expect 1 -- demo --data "$T/missing" --quiet
# a failed run leaves no output behind
[ ! -e "$T/l.npy" ] || { echo "FAIL: a failed run left $T/l.npy" >&2; fail=1; }
# demo without its data says how to pass it (run where no ./data/omniglot is)
(cd "$T" && env -u HILANDER_DEMO_DATA "$H" demo >/dev/null 2>"$T/demo.err"; echo $? >"$T/demo.rc")
if [ "$(cat "$T/demo.rc")" != 2 ] || ! grep -q -- "--data DIR" "$T/demo.err"; then
    echo "FAIL: demo without data: exit $(cat "$T/demo.rc"):" >&2
    cat "$T/demo.err" >&2
    fail=1
else
    echo "ok   2  hilander demo (no data found)"
fi
rm -rf "$T"
[ $fail = 0 ] && echo "exit_codes: all passed"
exit $fail

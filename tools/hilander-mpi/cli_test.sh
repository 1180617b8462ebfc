#!/bin/sh
# hilander-mpi on one synthetic .npy under 1, 2 and 4 ranks: the labels
# files are byte for byte the same (labels = smallest row of the cluster),
# a truncated file fails every rank with the format exit code and a missing
# model file with the I/O one, no hang.
set -eu
exe=$1 mpiexec=$2 tmp=$3
rm -rf "$tmp" && mkdir -p "$tmp"
run() { np=$1; shift; "$mpiexec" -n "$np" --oversubscribe "$exe" "$@"; }
run 1 synth --n 3000 --d 16 --classes 60 --noise 1.2 --out "$tmp/x.npy"
for np in 1 2 4; do
  run "$np" cluster --features "$tmp/x.npy" --labels-out "$tmp/l$np.npy" --threads 1 --stats 2> "$tmp/log$np"
  grep -q "clusters" "$tmp/log$np"
done
cmp "$tmp/l1.npy" "$tmp/l2.npy"
cmp "$tmp/l1.npy" "$tmp/l4.npy"
# 128-byte header + 3000 int64
test "$(wc -c < "$tmp/l1.npy")" -eq 24128
head -c 1000 "$tmp/x.npy" > "$tmp/bad.npy"
rc=0
run 2 cluster --features "$tmp/bad.npy" --labels-out "$tmp/bad_l.npy" 2> "$tmp/badlog" || rc=$?
test "$rc" -eq 4 || { echo "truncated file: exit code $rc, expected 4"; cat "$tmp/badlog"; exit 1; }
grep -q "HL_EFORMAT" "$tmp/badlog"
# a model file that does not exist: every rank stops with the I/O exit code
rc=0
run 2 cluster --features "$tmp/x.npy" --model "$tmp/missing.hlm" 2> "$tmp/badlog2" || rc=$?
test "$rc" -eq 3 || { echo "missing model: exit code $rc, expected 3"; cat "$tmp/badlog2"; exit 1; }
rm -rf "$tmp"
echo "hilander-mpi CLI: ok"

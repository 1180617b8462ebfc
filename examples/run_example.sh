#!/bin/sh
# CTest wrapper: run an example, show its output, and fail unless it exits 0
# and its standard output matches an extended regular expression.
#   sh run_example.sh REGEX PROGRAM ARGS...
set -u
regex=$1
shift
out=$("$@")
rc=$?
printf '%s\n' "$out"
[ $rc = 0 ] || { echo "run_example: $1 exited $rc" >&2; exit 1; }
printf '%s\n' "$out" | grep -Eq -- "$regex" || { echo "run_example: output does not match '$regex'" >&2; exit 1; }

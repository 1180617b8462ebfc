#!/bin/sh
# CTest hilander_manpage_groff: the man page renders without a warning.
#   sh manpage_groff.sh GROFF hilander.1
set -u
out=$("$1" -man -Tutf8 -ww -z "$2" 2>&1)
rc=$?
if [ $rc != 0 ] || [ -n "$out" ]; then
    echo "FAIL: groff -man -Tutf8 -ww -z $2 (exit $rc):" >&2
    printf '%s\n' "$out" >&2
    exit 1
fi
echo "manpage_groff: $2 renders without warnings"

#!/bin/sh
# CTest hilander_options_documented: every option that `hilander CMD --help`
# lists is documented in docs/CLI.md and in the man page hilander.1.
#   sh options_documented.sh HILANDER CLI.md hilander.1
set -u
H=$1
DOC=$2
MAN=$3
fail=0
total=0
# The man page with its escapes undone: \-\-model\-out -> --model-out, fonts dropped.
plain_man=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$MAN") || exit 1
commands=0
for cmd in knn train cluster eval demo "collection create" "collection add" "collection remove" \
           "collection info" "collection export"; do
    commands=$((commands + 1))
    # shellcheck disable=SC2086 # "collection add" is the command and its action
    help=$("$H" $cmd --help) || { echo "FAIL: hilander $cmd --help failed" >&2; exit 1; }
    # options are listed after the "options:" line, one per line, "  -k, --k K  ..." or "      --name ..."
    opts=$(printf '%s\n' "$help" | sed -n '/^options:/,$p' | grep -E '^  (-[a-zA-Z], )?--|^      --' |
           sed -E 's/^ +(-[a-zA-Z], )?(--[a-z0-9-]+).*/\2/' | sort -u)
    [ -n "$opts" ] || { echo "FAIL: no options found in hilander $cmd --help" >&2; exit 1; }
    for o in $opts; do
        total=$((total + 1))
        re="(^|[^A-Za-z0-9-])$o([^A-Za-z0-9-]|\$)"
        if ! grep -Eq -- "$re" "$DOC"; then
            echo "FAIL: hilander $cmd $o is not in $DOC" >&2
            fail=1
        fi
        if ! printf '%s\n' "$plain_man" | grep -Eq -- "$re"; then
            echo "FAIL: hilander $cmd $o is not in $MAN" >&2
            fail=1
        fi
    done
done
[ $total -ge 30 ] || { echo "FAIL: only $total options found in the help texts" >&2; fail=1; }
[ $fail = 0 ] && echo "options_documented: $total options of $commands commands documented in both files"
exit $fail

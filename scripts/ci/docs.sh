#!/usr/bin/env bash
# Documentation checks (run from anywhere; no build needed):
#  1. no tracked file cites the design document that is not in the
#     repository (the word "SPEC");
#  2. every reference of the form  docs/<name>.md, "Section"  (in any tracked
#     file) names an existing file and one of its headings (a prefix match,
#     line breaks inside the quotes allowed).
set -euo pipefail
cd "$(dirname "$0")/../.."
status=0
if git grep -n -w 'SPEC' -- . ':!scripts/ci/docs.sh'; then
    echo "docs.sh: the lines above cite a document outside the repository (SPEC)" >&2
    status=1
fi
python3 - <<'PY' || status=1
import re, subprocess, sys
files = subprocess.check_output(["git", "ls-files"], text=True).split()
heads = {}
def headings(doc):
    if doc not in heads:
        try:
            heads[doc] = [re.sub(r"^#+\s*", "", l).strip() for l in open(doc, encoding="utf-8") if l.startswith("#")]
        except OSError:
            heads[doc] = None
    return heads[doc]
bad = 0
ref = re.compile(r'(docs/[A-Za-z0-9_.-]+\.md)`?,?\s*((?:"[^"]+"(?:\s*(?:,|and|to)\s*)?)+)')
for f in files:
    if not f.endswith((".c", ".h", ".md", ".py", ".sh", ".txt", ".in")):
        continue
    try:
        text = open(f, encoding="utf-8", errors="ignore").read()
    except OSError:
        continue
    for m in ref.finditer(text):
        doc = m.group(1)
        hs = headings(doc)
        line = text.count("\n", 0, m.start()) + 1
        if hs is None:
            print(f"{f}:{line}: {doc} does not exist"); bad += 1; continue
        for sec in re.findall(r'"([^"]+)"', m.group(2)):
            sec = re.sub(r"\s*\*?\s*\n\s*\*?\s*", " ", sec).strip().rstrip(".")
            if not any(h.startswith(sec) for h in hs):
                print(f"{f}:{line}: {doc} has no section \"{sec}\""); bad += 1
sys.exit(1 if bad else 0)
PY
[ "$status" -eq 0 ] && echo "docs.sh: OK"
exit "$status"

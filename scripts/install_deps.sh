#!/usr/bin/env bash
# Install the Debian packages given as arguments, unless they are all present.
# Uses apt-get directly as root, through sudo otherwise.  Safe to re-run.
#
#   bash scripts/install_deps.sh cmake gcc ...
set -euo pipefail

missing=()
for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install_deps: all ${#} packages already installed"
    exit 0
fi
echo "install_deps: installing: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "install_deps: ERROR: missing packages (${missing[*]}) and not root, no sudo" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update
"${SUDO[@]}" apt-get install -y --no-install-recommends "${missing[@]}"

#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages kvmgrid needs, only those missing.
#   third_party/install.sh [GROUP ...]     groups: build run test fuzz e2e bench package all
#                                          (default: build run)
# Runs apt-get as root, or through sudo. Exit 0 when everything asked for is installed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
manifest="$here/packages.txt"
[ $# -gt 0 ] || set -- build run
want=" $* "
groups=" build run test fuzz e2e bench package "
for g in "$@"; do
    case "$groups all " in
    *" $g "*) ;;
    *) echo "third_party: unknown group '$g' (groups:$groups""all)" >&2; exit 2 ;;
    esac
done
case "$want" in *" all "*) want=$groups ;; esac

missing=""
while read -r pkg group _; do
    case "$pkg" in ''|'#'*) continue ;; esac
    case "$want" in *" $group "*) ;; *) continue ;; esac
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $pkg"
    fi
done < "$manifest"

if [ -z "$missing" ]; then
    echo "third_party: all packages for:$want are installed"
    exit 0
fi
echo "third_party: installing:$missing"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "third_party: need root or sudo to install:$missing" >&2; exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$sudo apt-get update -q || true
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing

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
no_service=""
while read -r pkg group flag _; do
    case "$pkg" in ''|'#'*) continue ;; esac
    case "$want" in *" $group "*) ;; *) continue ;; esac
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $pkg"
        [ "${flag:-}" = no-service ] && no_service="$no_service $pkg"
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
# The services of the no-service packages just installed (their postinst enabled and,
# under systemd, started them): stopped and disabled. A service installed before, by
# someone else, is left as it is.
if [ -n "$no_service" ] && [ -d /run/systemd/system ]; then
    for pkg in $no_service; do
        echo "third_party: stopping and disabling $pkg.service (kvmgrid's tests run their own)"
        $sudo systemctl disable --now "$pkg.service"
    done
fi

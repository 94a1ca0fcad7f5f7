#!/bin/sh
# SPDX-License-Identifier: MIT
# Install what kvmgrid needs (packages.txt), only what is missing.
#   third_party/install.sh [GROUP ...]     groups: build run test fuzz e2e bench package all
#                                          (default: build run)
# Debian packages through apt-get, as root or through sudo; a line "cmd=COMMAND"
# is satisfied by that command on PATH, however it came. A line "npm=DIR" is no
# Debian package: DIR's package.json and package-lock.json are installed with
# `npm ci` into <clone>/.cache/<name> (not in git), again only when that is
# missing or the lock changed; npm runs as whoever runs install.sh (no sudo).
# Exit 0 when everything asked for is installed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
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
npm_pkgs=""
while read -r pkg group kind _; do
    case "$pkg" in ''|'#'*) continue ;; esac
    case "$want" in *" $group "*) ;; *) continue ;; esac
    case "${kind:-}" in
    npm=*) npm_pkgs="$npm_pkgs $pkg=${kind#npm=}"; continue ;;
    cmd=*) if command -v "${kind#cmd=}" >/dev/null 2>&1; then continue; fi ;;
    esac
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $pkg"
        [ "${kind:-}" = no-service ] && no_service="$no_service $pkg"
    fi
done < "$manifest"

if [ -z "$missing" ]; then
    echo "third_party: all packages for:$want are installed"
else
    echo "third_party: installing:$missing"
    if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
        echo "third_party: need root or sudo to install:$missing" >&2; exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    $sudo apt-get update -q || true
    # shellcheck disable=SC2086
    $sudo apt-get install -y -q --no-install-recommends $missing
    # The services of the no-service packages just installed (their postinst enabled
    # and, under systemd, started them): stopped and disabled. A service installed
    # before, by someone else, is left as it is.
    if [ -n "$no_service" ] && [ -d /run/systemd/system ]; then
        for pkg in $no_service; do
            echo "third_party: stopping and disabling $pkg.service (kvmgrid's tests run their own)"
            $sudo systemctl disable --now "$pkg.service"
        done
    fi
fi

# npm_install NAME DIR: DIR's locked npm packages in $top/.cache/NAME/node_modules,
# unless the same package.json and lock were installed there completely before
# (their copies in .cache/NAME are written only after npm ci succeeded). No
# optional packages (native add-ons the locked program can do without) and no
# install scripts: nothing is built or fetched beyond the locked tarballs, which
# npm checks against the lock's integrity hashes. npm's own cache is a private
# one, removed afterwards, so every install from an empty .cache downloads anew.
npm_install() {
    _src="$top/$2" _dest="$top/.cache/$1"
    if [ ! -f "$_src/package.json" ] || [ ! -f "$_src/package-lock.json" ]; then
        echo "third_party: $2 has no package.json and package-lock.json" >&2; exit 1
    fi
    if cmp -s "$_src/package.json" "$_dest/package.json" \
        && cmp -s "$_src/package-lock.json" "$_dest/package-lock.json" \
        && [ -d "$_dest/node_modules" ]; then
        echo "third_party: $1 is installed as $2/package-lock.json says (.cache/$1)"
        return 0
    fi
    command -v npm >/dev/null || { echo "third_party: npm is missing (group test)" >&2; exit 1; }
    echo "third_party: installing $1 from $2/package-lock.json into .cache/$1 (npm ci)"
    rm -rf "$_dest"
    mkdir -p "$_dest/work"
    cp "$_src/package.json" "$_src/package-lock.json" "$_dest/work/"
    (cd "$_dest/work" && npm ci --omit=optional --ignore-scripts --no-audit --no-fund \
        --update-notifier=false --cache "$_dest/npm-cache") \
        || { echo "third_party: npm ci of $2 failed" >&2; rm -rf "$_dest"; exit 1; }
    mv "$_dest/work/node_modules" "$_dest/node_modules"
    rm -rf "$_dest/work" "$_dest/npm-cache"
    cp "$_src/package.json" "$_src/package-lock.json" "$_dest/"
}
for p in $npm_pkgs; do npm_install "${p%%=*}" "${p#*=}"; done

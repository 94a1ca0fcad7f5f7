#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds kvmgrid's Debian binary packages (kvmgrid-agent, kvmgrid-wall,
# kvmgrid-load, kvmgrid-broker) with debian/ and checks them with lintian.
#
#   tools/package.sh [--out DIR]      DIR: where the .deb files go (default: dist/)
#
# The build runs on a copy of the tree in a temporary directory (the files git
# tracks plus new ones it does not ignore, as they are in the work tree), so
# the tree itself gets no build products. Needs the "build" and "package"
# groups of third_party/packages.txt (./run.sh package installs them first).
# Earlier kvmgrid .deb files in DIR are replaced; debug symbols go to
# DIR/dbgsym/, the build log to DIR/kvmgrid-package.log. Exit status: 0 built and lintian reports no error,
# 1 the build failed or lintian reports errors, 2 usage.
# Environment: KG_JOBS (build parallelism, default: nproc).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/dist
while [ $# -gt 0 ]; do
    case "$1" in
    --out) [ $# -ge 2 ] || { echo "package.sh: --out needs a directory" >&2; exit 2; }
           out=$2; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    -h|--help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
    esac
done
for tool in dpkg-buildpackage dh lintian lowdown cmake; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "package.sh: $tool not found: third_party/install.sh build package" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
jobs=${KG_JOBS:-$(nproc 2>/dev/null || echo 2)}
log=$out/kvmgrid-package.log

work=$(mktemp -d "${TMPDIR:-/tmp}/kvmgrid-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM
src=$work/kvmgrid
mkdir "$src"

# The tree as it is in the work tree: tracked files (a tracked file deleted in
# the work tree is skipped) and untracked ones that are not ignored. Without
# git (an unpacked tarball), everything but build trees and dist/.
if command -v git >/dev/null 2>&1 && git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$top" && git ls-files -z --cached --others --exclude-standard |
        tar --null --no-recursion --ignore-failed-read --warning=no-failed-read -T - -cf -) |
        tar -xf - -C "$src"
else
    (cd "$top" && tar --exclude=./.git --exclude='./build*' --exclude=./dist --exclude=./out \
        -cf - .) | tar -xf - -C "$src"
fi
[ -f "$src/debian/control" ] || { echo "package.sh: no debian/control in $top" >&2; exit 1; }

# One version: CMake's project() is the program's (kvmgrid-agent --version),
# debian/changelog the packages'.
cmake_version=$(sed -n 's/^project(kvmgrid VERSION \([0-9][0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
deb_version=$(cd "$src" && dpkg-parsechangelog -S Version)
if [ "$cmake_version" != "$deb_version" ]; then
    echo "package.sh: CMakeLists.txt says version '$cmake_version', debian/changelog '$deb_version':" \
         "add a changelog entry (dch -v $cmake_version)" >&2
    exit 1
fi

echo "package.sh: building in $work (log: $log)"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b -j"$jobs") >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "package.sh: dpkg-buildpackage failed; the whole log is $log" >&2
    exit 1
fi

changes=$(find "$work" -maxdepth 1 -name 'kvmgrid_*.changes' | head -n 1)
[ -n "$changes" ] || { echo "package.sh: no .changes file from the build" >&2; exit 1; }
# DIR holds the packages to install (apt-get install ./DIR/*.deb); the
# debug symbols go to DIR/dbgsym.
rm -f "$out"/kvmgrid-*.deb "$out"/dbgsym/kvmgrid-*.deb
debs=$(find "$work" -maxdepth 1 -name 'kvmgrid-*.deb' ! -name '*-dbgsym_*' | sort)
[ -n "$debs" ] || { echo "package.sh: the build made no .deb" >&2; exit 1; }
for deb in $debs; do
    cp "$deb" "$out/"
done
mkdir -p "$out/dbgsym"
find "$work" -maxdepth 1 -name 'kvmgrid-*-dbgsym_*.deb' -exec cp {} "$out/dbgsym/" \;

echo "package.sh: lintian"
status=0
lintian --fail-on error --display-info "$changes" || status=1

echo "package.sh: packages in $out:"
for deb in $debs; do
    echo "  $out/$(basename "$deb")"
done
if [ "$status" -ne 0 ]; then
    echo "package.sh: lintian reports errors" >&2
fi
exit "$status"

#!/bin/sh
# SPDX-License-Identifier: MIT
# Fixture of the packaging test: tools/package.sh builds the four .debs into
# DIST (its lintian check included), one of each.
#   package_build.sh DIST
set -eu
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

dist=$1
[ -f "$KG_SOURCE_DIR/tools/package.sh" ] || kg_die "tools/package.sh is missing: the packages cannot be built"
rm -rf "$dist"
t0=$(date +%s)
# One core (dpkg-buildpackage -j1), as the test declares to ctest (PROCESSORS 1).
KG_JOBS=1 "$KG_SOURCE_DIR/tools/package.sh" --out "$dist" >"$KG_TMP/package.log" 2>&1 &
KG_PIDS="$KG_PIDS $!"
st=0
wait $! || st=$?
kg_log "phase package: $(($(date +%s) - t0)) s (exit $st)"
[ "$st" -eq 0 ] || kg_die "tools/package.sh --out $dist failed with status $st (see package.log)"
for p in kvmgrid-agent kvmgrid-wall kvmgrid-load kvmgrid-broker; do
    n=$(find "$dist" -maxdepth 1 -name "${p}_*.deb" | wc -l)
    kg_assert_eq "one $p package in $dist" 1 "$n"
done

#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/scale/run.sh (a region: site brokers bridged to a centre with the shipped
# bridge-summary.conf.in, a wall on the centre) at a tiny size: 4 sites of 10
# hosts x 5 VMs, a summary every second, a 4 s window. Checks that it ran, that
# every host's status and summary crossed the bridges to the centre, that the
# probe's summaries reached the centre's subscriber and the wall's tile, that
# the wall holds what its prefix covers, that the table is printed, and that
# nothing it started is left running. Figures are not asserted (a benchmark).
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

out=$(SITES=4 INTERVAL=1 TMPDIR="$KG_TMP" sh "$KG_SOURCE_DIR/bench/scale/run.sh" "$KG_BUILD_DIR" 40 5 4 2>&1)
rc=$?
printf '%s\n' "$out" >"$KG_TMP/bench.out.log"
kg_assert_eq "bench/scale/run.sh ran" 0 "$rc"
kg_assert_contains "the centre holds every host's summary and status, through the bridges" "$out" \
    "the centre holds 40 summaries and 40 statuses (expected 40 each)"
probes() { printf '%s\n' "$out" | grep "^| $1" | sed 's/.*(\([0-9]*\) probes.*/\1/'; }
kg_assert_ge "probe summaries from site 1 arrived at the centre's subscriber" "$(probes 'site -> centre')" 2
kg_assert_ge "the wall's probe tile changed after its burst" "$(probes 'site -> wall')" 1
want=$(printf '%s\n' "$out" | sed -n 's/^scale: wall on the centre.*: \([0-9]*\) VMs).*/\1/p')
kg_assert_contains "the wall holds the VMs its prefix covers" "$(printf '%s\n' "$out" | grep '^wall: applied')" \
    " vms $want hosts $((want / 5)) malformed 0 "
for row in 'centre broker CPU' 'centre publishes in / out' 'wall: peak RSS' 'wall: frame CPU' \
           'wall ('; do
    kg_assert_contains "the table has: $row" "$out" "| $row"
done
kg_assert_eq "nothing the bench started is left running" "" "$(pgrep -f "$KG_TMP/kg-run" || true)"

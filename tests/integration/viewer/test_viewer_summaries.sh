#!/bin/sh
# SPDX-License-Identifier: MIT
# source = summaries against source = vms, over the same retained state:
# - the real agent on libvirt's test driver (VM topics, metrics and its summary
#   of the same cycle, then stopped so that nothing moves): kvmgrid-top --once
#   gives the same rows from either source (the summary's rounding is the
#   table's: 0.1 %, whole bytes/s), and --json in summaries mode has only the
#   fields a summary carries (with its disk and network sums and disk latency,
#   which both modes print);
# - kg-wall-gridpub's grid published both ways (per-VM topics under one prefix,
#   one summary per host under another; integer figures, so nothing is lost to
#   rounding): the wall's all-metrics picture has the same layout and the same
#   colour in every quadrant of every tile.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
. "$KG_SOURCE_DIR/tests/integration/viewer/headless.sh"

TOP=$(kg_bin kvmgrid-top)

kg_broker_start
B=$KG_BROKER_URI

# ---- the real agent: two cycles with rates, then stopped
kg_agent_start agent --libvirt-uri test:///default --interval 1s
kg_wait_for 15 kg_has_retained kvmgrid/hv1/summary || kg_die "the agent published no summary"
sleep 2.5 # a second cycle: rates (CPU, disk, network) exist
kg_stop "$AGENT_PID"
kg_pub kvmgrid/hv1/status online -r # as while it ran: tiles not drawn offline

# AGE (seconds since each payload's own ts) may differ by a second: left out
rows() {
    "$TOP" --broker "$B" --once --sort name --source "$1" 2>>"$KG_TMP/top.log" |
        sed -E 's/ +[0-9]+(s|m|h|d)( |$)/ AGE\2/'
}
vms=$(rows vms)
sums=$(rows summaries)
kg_assert_contains "vms: the test driver's VM" "$vms" " test "
kg_assert_eq "kvmgrid-top --once: the same rows from summaries as from the VM topics" "$vms" "$sums"
kg_log "rows from summaries:"; printf "%s\n" "$sums" | while read -r l; do kg_log "  $l"; done

"$TOP" --broker "$B" --once --json --source summaries >"$KG_TMP/sum.json" 2>>"$KG_TMP/top.log"
"$TOP" --broker "$B" --once --json --source vms >"$KG_TMP/vms.json" 2>>"$KG_TMP/top.log"
python3 - "$KG_TMP/sum.json" "$KG_TMP/vms.json" <<'EOPY' >"$KG_TMP/json.out" 2>&1
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
v = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
carried = {'schema', 'ts', 'host', 'name', 'state', 'stale', 'age_s', 'offline', 'alerts',
           'cpu_pct', 'mem_used_pct', 'steal_pct',
           'disk_bytes_per_s', 'net_bytes_per_s', 'disk_lat_ms'}
assert s and len(s) == len(v), (len(s), len(v))
for a, b in zip(s, v):
    extra = set(a) - carried
    assert not extra, 'summaries mode has %s' % sorted(extra)
    assert a['name'] == b['name'] and a['state'] == b['state'], (a, b)
    for k, tol in (('cpu_pct', 0.05), ('mem_used_pct', 0.05), ('steal_pct', 0.05),
                   ('disk_bytes_per_s', 0.5), ('net_bytes_per_s', 0.5), ('disk_lat_ms', 0.05)):
        assert (k in a) == (k in b), k
        if k in a:
            assert abs(a[k] - b[k]) <= tol + 1e-9, (k, a[k], b[k])
# the sums are the VM payload's read + write and rx + tx
for b in v:
    if 'disk_rd_bytes_per_s' in b:
        assert abs(b['disk_bytes_per_s'] - b['disk_rd_bytes_per_s'] - b['disk_wr_bytes_per_s']) <= 1, b
assert any('disk_bytes_per_s' in a for a in s), 'the summaries carry disk sums'
assert any('net_bytes_per_s' in a for a in s), 'the summaries carry network sums' 
assert any('vcpus' in b for b in v), 'the VM topics carry vcpus'
print('ok')
EOPY
[ "$(cat "$KG_TMP/json.out")" = ok ] &&
    kg_pass "--json, summaries: only what a summary carries, the same figures (sums too) within its rounding" ||
    kg_fail "--json: $(cat "$KG_TMP/json.out")"

# ---- the wall: one grid published both ways
"$GRIDPUB" --broker "$B" --prefix gv --hosts 4 --vms 6 2>>"$KG_TMP/gridpub.log" ||
    kg_die "gridpub (VM topics)"
"$GRIDPUB" --broker "$B" --prefix gs --hosts 4 --vms 6 --summary 2>>"$KG_TMP/gridpub.log" ||
    kg_die "gridpub --summary"
kg_assert_contains "gridpub --summary: one row per VM" "$(cat "$KG_TMP/gridpub.log")" \
    "24 retained VM rows in summaries"
shot() { # PREFIX SOURCE
    "$WALL" --broker "$B" --prefix "$1" --source "$2" --size 800x600 \
        --screenshot "$KG_TMP/$2.png" --dump-layout "$KG_TMP/$2.txt" >>"$KG_TMP/wall.log" 2>&1 ||
        kg_fail "wall --source $2: exit status $?"
}
shot gv vms
shot gs summaries
kg_assert_eq "wall: the same tiles from summaries" "$(grep '^tile' "$KG_TMP/vms.txt")" \
    "$(grep '^tile' "$KG_TMP/summaries.txt")"
[ "$(grep -c '^tile' "$KG_TMP/vms.txt")" = 24 ] || kg_fail "not 24 tiles: $(cat "$KG_TMP/vms.txt")"
# a point in each quadrant of each tile, next to their shared corner
grep '^tile' "$KG_TMP/vms.txt" | while read -r _ _ _ x y t _; do
    h=$((t / 2))
    for d in "-2 -2" "2 -2" "-2 2" "2 2"; do
        set -- $d
        echo "$((x + h + $1)) $((y + h + $2))"
    done
done >"$KG_TMP/points"
"$PIXELS" "$KG_TMP/vms.png" <"$KG_TMP/points" | grep -v "^size" >"$KG_TMP/vms.px"
"$PIXELS" "$KG_TMP/summaries.png" <"$KG_TMP/points" | grep -v "^size" >"$KG_TMP/summaries.px"
[ "$(wc -l <"$KG_TMP/vms.px")" = 96 ] || kg_fail "pixels: $(cat "$KG_TMP/vms.px")"
[ "$(cut -d' ' -f3 "$KG_TMP/vms.px" | sort -u | wc -l)" -gt 8 ] &&
    kg_pass "wall: the quadrants have many colours (a test that can fail)" ||
    kg_fail "wall: too few colours: $(sort -u "$KG_TMP/vms.px" | head)"
kg_assert_eq "wall: every quadrant of every tile coloured the same from summaries" \
    "$(cat "$KG_TMP/vms.px")" "$(cat "$KG_TMP/summaries.px")"

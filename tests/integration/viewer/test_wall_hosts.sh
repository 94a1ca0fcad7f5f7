#!/bin/sh
# SPDX-License-Identifier: MIT
# Host tiles: a grid whose VM tiles would be under 3 px (1,000 hosts x 50 VMs in
# 640x400) shows one tile per host (tiles = auto), its rows its VMs' values sorted
# (the worst at the top, the best at the bottom), with the alert frame for a host
# with a VM in alert, the stale and offline counts in the layout dump; tiles = vms
# forces VM tiles; bad values of the new keys exit 2. Then in a real X window
# (Xvfb, xdotool): a click on a host tile drills into that host (its VM tiles), Esc
# comes back to the host tiles, Enter over another host drills into it, Backspace
# comes back.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

WALL=$(kg_bin kvmgrid-wall)
GRIDPUB=$(kg_bin kg-wall-gridpub)
PIXELS=$(kg_bin kg-wall-pixels)

htile() { grep "^htile $2 " "$1" | head -n 1; } # DUMP HOST

if [ "${1:-}" = "--inner" ]; then
    . "$KG_SOURCE_DIR/tests/integration/viewer/xwall.sh"
    kg_spawn wall "$WALL" --broker "$OUTER_BROKER_URI" --size 1024x640 --metric cpu --interval 1h \
        --history 0 --dump-layout "$KG_TMP/x.txt"
    WALL_PID=$KG_LAST_PID LOG=$KG_TMP/wall.log
    kg_wall_wait_window "host tiles wall"
    kg_wall_settle "retained state drawn" "settled 1" "inputs 0" "zoomed 0"
    kg_wall_focus "host tiles wall"
    kg_assert_contains "host tiles in the window" "$(grep '^grid' "$KG_TMP/x.txt")" "grid tiles hosts"
    eval "$(xdotool getwindowgeometry --shell "$WID")" || kg_die "no geometry for window [$WID]"
    set -- $(htile "$KG_TMP/x.txt" hv0001); [ -n "${3:-}" ] || kg_die "no host tile for hv0001"
    xdotool mousemove $((X + $3 + $5 / 2)) $((Y + $4 + $5 / 2)) click 1
    INPUTS=$((INPUTS + 1))
    kg_wall_settle "a click on a host tile" "inputs $INPUTS" "zoomed 1"
    kg_wall_view >/dev/null # the dump of what is drawn now
    kg_assert_contains "... shows that host's VM tiles" "$(grep '^grid' "$KG_TMP/x.txt")" "grid tiles vms"
    kg_assert_eq "... 51 tiles, all of hv0001" "51 51" \
        "$(grep -c '^tile ' "$KG_TMP/x.txt") $(grep -c '^tile hv0001 ' "$KG_TMP/x.txt")"
    kg_wall_key Escape; kg_wall_settle "Esc" "inputs $INPUTS" "zoomed 0"
    kg_wall_view >/dev/null
    kg_assert_contains "... back to the host tiles" "$(grep '^grid' "$KG_TMP/x.txt")" "grid tiles hosts host_tiles 1000"
    set -- $(htile "$KG_TMP/x.txt" hv0002)
    xdotool mousemove $((X + $3 + $5 / 2)) $((Y + $4 + $5 / 2))
    kg_wall_settle "hovering a host tile" "tooltip 1"
    kg_wall_key Return; kg_wall_settle "Enter over a host tile" "inputs $INPUTS" "zoomed 1"
    kg_wall_view >/dev/null
    kg_assert_eq "... drills into hv0002 (its 51 VMs)" "51" "$(grep -c '^tile hv0002 ' "$KG_TMP/x.txt")"
    kg_wall_key BackSpace; kg_wall_settle "Backspace" "inputs $INPUTS" "zoomed 0"
    kg_wall_quit "host tiles wall"
    exit 0
fi

export SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0
kg_broker_start
"$GRIDPUB" --broker "$KG_BROKER_URI" --hosts 1000 --vms 50 >"$KG_TMP/gridpub.log" 2>&1 || kg_die "gridpub"
# hv0001: a VM in alert (memory follows CPU: 99 % is over the default 95 %);
# hv0002: a VM its agent says is stale; hv0003: offline
kg_pub kvmgrid/hv0001/vm/hot "$("$GRIDPUB" --print-vm hv0001 hot 99 running)" -r
kg_pub kvmgrid/hv0002/vm/old "$("$GRIDPUB" --print-vm hv0002 old 20 running stale)" -r
kg_pub kvmgrid/hv0003/status offline -r
kg_wait_for 30 kg_has_retained kvmgrid/hv0003/status || kg_die "the broker never stored the status"

shot() { # NAME FLAGS...: a screenshot and layout at 640x400
    _n=$1; shift
    "$WALL" --broker "$KG_BROKER_URI" --size 640x400 --metric cpu --interval 1h --history 0 \
        --screenshot "$KG_TMP/$_n.png" --dump-layout "$KG_TMP/$_n.txt" "$@" >>"$KG_TMP/wall.log" 2>&1
    kg_assert_eq "$_n: wall exit status" 0 $?
}
shot hosts
D=$KG_TMP/hosts.txt
kg_assert_contains "50,000 VMs in 640x400: host tiles" "$(grep '^grid' "$D")" "grid tiles hosts host_tiles 1000"
kg_assert_eq "... one per host, no VM tile" "1000 0" "$(grep -c '^htile ' "$D") $(grep -c '^tile ' "$D")"
kg_assert_contains "... the header's counts are every VM's" "$(grep '^counts' "$D")" "vms 50002"
# the grid's own VMs over 95 % memory (it follows CPU: (7i + 13j) % 101) are in alert too
grid_alerts() { awk -v i="$1" 'BEGIN { for (j = 0; j < 50; j++) n += (7 * i + 13 * j) % 101 > 95; print n }'; }
kg_assert_contains "hv0001: 51 VMs, its hot one in alert" "$(htile "$D" hv0001)" \
    "vms 51 alert $(( $(grid_alerts 1) + 1 )) stale 0"
# (stale is an alert kind of its own)
kg_assert_contains "hv0002: its stale VM counted" "$(htile "$D" hv0002)" \
    "vms 51 alert $(( $(grid_alerts 2) + 1 )) stale 1"
kg_assert_contains "hv0003: offline" "$(htile "$D" hv0003)" " offline vms 50"
kg_assert_contains "hv0000: worst 100 %" "$(htile "$D" hv0000)" "cpu 100.0"
# Without the CPU and memory alerts only hv0002 (stale) is framed, and hv0000 shows
# its distribution from top to bottom: (13j) % 101 %, 100 % the worst, 0 % the best.
shot calm --alert-cpu off --alert-mem off
px() { echo "$2 $3" | "$PIXELS" "$KG_TMP/$1.png" | tail -n 1 | cut -d' ' -f3; } # NAME X Y
set -- $(htile "$KG_TMP/calm.txt" hv0002); x=$3 y=$4 t=$5
[ "$t" -ge 6 ] || kg_die "host tiles too small for the pixel checks ($t px)"
kg_assert_eq "hv0002 (a VM stale): the alert frame" FFFFFF "$(px calm $x $((y + t / 2)))"
set -- $(htile "$KG_TMP/calm.txt" hv0000); x=$3 y=$4 t=$5
[ "$(px calm $x $((y + t / 2)))" != FFFFFF ] && kg_pass "hv0000 (none in alert): no frame" ||
    kg_fail "hv0000 framed without a VM in alert"
top=$(px calm $((x + t / 2)) $y) mid=$(px calm $((x + t / 2)) $((y + t / 2))) bottom=$(px calm $((x + t / 2)) $((y + t - 1)))
[ "$top" != "$mid" ] && [ "$mid" != "$bottom" ] && [ "$top" != "$bottom" ] &&
    kg_pass "hv0000: worst $top at the top, median $mid in the middle, best $bottom at the bottom" ||
    kg_fail "hv0000: no distribution top to bottom ($top $mid $bottom)"
shot forced --tiles vms
kg_assert_contains "tiles = vms: VM tiles however small" "$(grep '^grid' "$KG_TMP/forced.txt")" "grid tiles vms"
kg_assert_eq "... 50,002 of them" 50002 "$(grep -c '^tile ' "$KG_TMP/forced.txt")"
shot quads --metric all --host-tiles-below-px 2 --tiles hosts
kg_assert_contains "tiles = hosts, all metrics" "$(grep '^grid' "$KG_TMP/quads.txt")" "grid tiles hosts"

for bad in "--tiles hives" "--host-tiles-below-px 0" "--host-tiles-below-px 65" "--history-max-vms -5"; do
    # shellcheck disable=SC2086
    "$WALL" --broker "$KG_BROKER_URI" $bad --check >"$KG_TMP/bad.log" 2>&1
    kg_assert_eq "$bad: exit 2" 2 $?
    kg_assert_contains "... says why" "$(cat "$KG_TMP/bad.log")" "${bad%% *}"
done

OUTER_BROKER_URI=$KG_BROKER_URI xvfb-run -a -s "-screen 0 1280x800x24 -noreset" "$0" --inner
kg_assert_eq "drill in and back under Xvfb" 0 $?

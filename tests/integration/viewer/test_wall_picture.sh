#!/bin/sh
# SPDX-License-Identifier: MIT
# The wall against a real mosquitto: retained payloads with known values go in, the
# headless screenshot comes out, and the pixels at the tile positions the wall
# reports (--dump-layout) must have the specified colours and marks: viridis for
# 0/50/100 %, the paused bars, the hollow shut-off square, the stale checkerboard,
# the offline stripes and frame; a removed VM has no tile; an escaped name works.
# VMs in alert (memory over 95 %, stale, offline: the default rules) get a white
# frame around a black one over every other mark. The default view, all metrics,
# colours each tile's quadrants as the one-metric views colour whole tiles, the
# quadrant in alert boxed; at 4 px tiles too. The alerts-only view shows exactly
# the VMs in alert, and an empty grid when none is. Then VMs that stop updating turn stale. Samples are taken only in a tile's top rows,
# left column and centre: the wall draws VM names and values (tiles >= 48 px) only in
# the bottom 40 % of a tile (docs/kvmgrid-wall.md, "Text in tiles"). Bad flags exit 2;
# a wall that can reach no display exits 1 rather than run without a window.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

. "$KG_SOURCE_DIR/tests/integration/viewer/headless.sh"

kg_broker_start

vm() { # HOST VM CPU STATE [stale]
    "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PORT" -r -t "kvmgrid/$1/vm/$2" -m "$("$GRIDPUB" --print-vm "$1" "$2" "$3" "$4" ${5:-})" ||
        kg_die "publish $1/$2"
}
kg_pub kvmgrid/hv1/status online -r
# hv1 tells a 1 h interval, so that it can never turn stale during the test, however
# slow the machine (the time-staleness run below relies on it).
kg_pub kvmgrid/hv1/metrics "$("$GRIDPUB" --print-host hv1 3600)" -r
vm hv1 a 0 running
vm hv1 b 50 running
vm hv1 c 100 running
vm hv1 p 100 paused
vm hv1 s 0 shutoff
vm hv1 st 100 running stale
vm hv1 gone 100 running
kg_pub kvmgrid/hv1/vm/gone "" -r            # removed again: no tile
kg_pub kvmgrid/hv2/status offline -r
vm hv2 o 100 running
"$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PORT" -r -t 'kvmgrid/hv3/vm/x%2Fy%20z' \
    -m "$("$GRIDPUB" --print-vm hv3 'x/y z' 50 running)"

SHOT=$KG_TMP/wall.png LAYOUT=$KG_TMP/layout.txt
"$WALL" --broker "$KG_BROKER_URI" --size 800x600 --metric cpu --screenshot "$SHOT" --dump-layout "$LAYOUT" \
    >"$KG_TMP/wall.log" 2>&1
kg_assert_eq "wall exit status" 0 $?
[ -s "$SHOT" ] || kg_die "no screenshot"
[ -s "$LAYOUT" ] || kg_die "no layout"
cp "$LAYOUT" "$KG_TMP/layout.log"

counts=$(grep '^counts' "$LAYOUT")
kg_assert_contains "host counts (hv3 never sent a status)" "$counts" "hosts 3 online 1 offline 1 stale 0"
kg_assert_contains "VM counts" "$counts" "vms 8 online 6 offline 1 stale 1"
kg_assert_contains "VM states" "$counts" "running 6 paused 1 shutoff 1"
kg_assert_contains "no malformed payloads" "$(grep '^malformed' "$LAYOUT")" "malformed 0 "
kg_assert_not_contains "removed VM has no tile" "$(cat "$LAYOUT")" "tile hv1 gone"
kg_assert_contains "escaped name shown escaped" "$(cat "$LAYOUT")" "tile hv3 x%2Fy%20z"
kg_assert_contains "offline host" "$(grep '^host hv2' "$LAYOUT")" "offline"

tile() { grep "^tile $1 $2 " "$LAYOUT" | head -n 1; }
px() { echo "$1 $2" | "$PIXELS" "$SHOT" | tail -n 1 | cut -d' ' -f3; }
# centre pixel of a tile
centre() { set -- $(tile "$1" "$2"); px $(( $4 + $6 / 2 )) $(( $5 + $6 / 2 )); }
# inside TILE_PX: how far the alert frame (white, then black, each f px) reaches in
inside() { f=1; [ "$1" -ge 16 ] && f=2; [ "$1" -ge 48 ] && f=3; echo $(( 2 * f )); }

kg_assert_eq "0 % is viridis[0]" 440154 "$(centre hv1 a)"
kg_assert_eq "50 % is viridis[128]" 21918C "$(centre hv1 b)"
kg_assert_eq "100 % is viridis[255]" FDE725 "$(centre hv1 c)"
kg_assert_eq "escaped-name VM coloured" 21918C "$(centre hv3 'x%2Fy%20z')"

set -- $(tile hv1 p); x=$4 y=$5 t=$6
[ "$t" -ge 6 ] || kg_die "tiles too small for the mark checks ($t px)"
bw=$(( t / 6 )); sp=$(( t / 10 )); [ $sp -ge 1 ] || sp=1
in=$(inside "$t")
kg_assert_eq "paused tile keeps its colour (inside its alert frame)" FDE725 "$(px $(( x + in )) $(( y + in )))"
kg_assert_eq "paused tile has a bar" FFFFFF "$(px $(( x + t / 2 - sp - bw )) $(( y + t / 2 )))"
kg_assert_eq "paused tile has a second bar" FFFFFF "$(px $(( x + t / 2 + sp )) $(( y + t / 2 )))"

set -- $(tile hv1 s); x=$4 y=$5 t=$6
kg_assert_eq "shut-off tile is hollow" 101014 "$(px $(( x + t / 2 )) $(( y + t / 2 )))"
kg_assert_eq "shut-off tile has an outline" 9A9AA0 "$(px $x $(( y + t / 2 )))"

set -- $(tile hv1 st); x=$4 y=$5 t=$6
cell=1; [ "$t" -ge 6 ] && cell=2; [ "$t" -ge 12 ] && cell=3
kg_assert_contains "stale tile flagged" "$(tile hv1 st)" " stale"
# (in is a multiple of both cell sizes where it matters: the checkerboard's phase holds)
in=$(inside "$t")
kg_assert_eq "stale checkerboard: colour cell" FDE725 "$(px $(( x + in )) $(( y + in )))"
kg_assert_eq "stale checkerboard: dark cell" 000000 "$(px $(( x + in + cell )) $(( y + in )))"
kg_assert_eq "stale checkerboard: next row" 000000 "$(px $(( x + in )) $(( y + in + cell )))"

set -- $(tile hv2 o); x=$4 y=$5 t=$6
in=$(inside "$t")
# (left of the band that names its alert kinds on top)
kg_assert_eq "offline tile: dimmed colour row" 6C630F "$(px $(( x + in )) $(( y + in )))"
kg_assert_eq "offline tile: dark stripe row" 000000 "$(px $(( x + in )) $(( y + in + 1 )))"
set -- $(grep '^host hv2 ' "$LAYOUT"); bx=$3 by=$4
kg_assert_eq "offline host has a frame" FF5A36 "$(px $(( bx - 1 )) $(( by + 3 )))"

# Alerts (the default rules: memory over 95 % at once, stale, offline): in the dump,
# and on screen a white frame around a black one, over the colour, the paused bars,
# the checkerboard and the stripes alike; the centre keeps the colour.
kg_assert_contains "alert counts" "$(grep '^alerts' "$LAYOUT")" "alerts vms 4 "
kg_assert_contains "100 % memory: in alert" "$(tile hv1 c)" " alert MEM"
kg_assert_contains "stale and 100 %: both kinds" "$(tile hv1 st)" " alert MEM,STALE"
kg_assert_contains "offline host's VM: in alert" "$(tile hv2 o)" " alert MEM,OFFLINE"
kg_assert_not_contains "50 %: no alert" "$(tile hv1 b)" " alert"
for v in "hv1 c" "hv1 p" "hv1 st" "hv2 o"; do
    set -- $(tile $v); x=$4 y=$5 t=$6; f=$(( $(inside "$t") / 2 ))
    kg_assert_eq "$v in alert: white outer frame" FFFFFF "$(px $x $(( y + t / 3 )))"
    kg_assert_eq "$v in alert: white frame, far side" FFFFFF "$(px $(( x + t - 1 )) $(( y + t / 3 )))"
    kg_assert_eq "$v in alert: black inner frame" 000000 "$(px $(( x + f )) $(( y + t / 3 )))"
done
set -- $(tile hv1 b); x=$4 y=$5 t=$6
kg_assert_eq "no alert: no frame" 21918C "$(px $x $(( y + t / 3 )))"
kg_assert_eq "in alert: the centre keeps its colour" FDE725 "$(centre hv1 c)"

# All metrics (the default): each quadrant as the one-metric view colours the whole
# tile, the same layout (by name) in both; next to the quadrants' shared corner,
# clear of labels and names.
for m in mem disk net; do
    "$WALL" --broker "$KG_BROKER_URI" --size 800x600 --metric $m --screenshot "$KG_TMP/$m.png" \
        >>"$KG_TMP/wall.log" 2>&1 || kg_fail "--metric $m screenshot"
done
ALL=$KG_TMP/all.png
"$WALL" --broker "$KG_BROKER_URI" --size 800x600 --screenshot "$ALL" --dump-layout "$KG_TMP/all.txt" \
    >>"$KG_TMP/wall.log" 2>&1
kg_assert_eq "all metrics: exit status" 0 $?
kg_assert_eq "all metrics: the same layout" "$(grep '^tile' "$LAYOUT")" "$(grep '^tile' "$KG_TMP/all.txt")"
pxf() { echo "$2 $3" | "$PIXELS" "$1" | tail -n 1 | cut -d' ' -f3; } # FILE X Y
for v in "hv1 a" "hv1 b" "hv1 c" "hv3 x%2Fy%20z"; do
    set -- $(tile $v); x=$4 y=$5 t=$6 h=$(( $6 / 2 ))
    [ "$t" -ge 24 ] || kg_die "tiles too small for the quadrant checks ($t px)"
    kg_assert_eq "$v: CPU quadrant" "$(pxf "$SHOT" $(( x + t / 2 )) $(( y + t / 2 )))" "$(pxf "$ALL" $(( x + h - 2 )) $(( y + h - 2 )))"
    kg_assert_eq "$v: memory quadrant" "$(pxf "$KG_TMP/mem.png" $(( x + t / 2 )) $(( y + t / 2 )))" "$(pxf "$ALL" $(( x + h + 2 )) $(( y + h - 2 )))"
    kg_assert_eq "$v: disk quadrant" "$(pxf "$KG_TMP/disk.png" $(( x + t / 2 )) $(( y + t / 2 )))" "$(pxf "$ALL" $(( x + h - 2 )) $(( y + h + 2 )))"
    kg_assert_eq "$v: network quadrant" "$(pxf "$KG_TMP/net.png" $(( x + t / 2 )) $(( y + t / 2 )))" "$(pxf "$ALL" $(( x + h + 2 )) $(( y + h + 2 )))"
done
set -- $(tile hv1 b); x=$4 y=$5 t=$6 h=$(( $6 / 2 ))
kg_assert_eq "the quadrants are parted by a dark cross" 101014 "$(pxf "$ALL" $(( x + h )) $(( y + t / 4 )))"
[ "$(pxf "$ALL" $(( x + h - 2 )) $(( y + h + 2 )))" != "$(pxf "$ALL" $(( x + h - 2 )) $(( y + h - 2 )))" ] &&
    kg_pass "disk and CPU quadrants differ (log and linear scales)" || kg_fail "disk quadrant coloured like CPU"
set -- $(tile hv1 c); x=$4 y=$5 t=$6 h=$(( $6 / 2 )); f=$(( $(inside "$t") / 2 ))
qf=$(( f > 1 ? f - 1 : 1 ))
kg_assert_eq "all metrics, in alert: the frame" FFFFFF "$(pxf "$ALL" $x $(( y + t / 3 )))"
kg_assert_eq "the memory quadrant in alert is boxed (white)" FFFFFF "$(pxf "$ALL" $(( x + h + qf )) $(( y + h - 2 * qf - 2 )))"
kg_assert_eq "... then black" 000000 "$(pxf "$ALL" $(( x + h + 2 * qf )) $(( y + h - 2 * qf - 2 )))"
kg_assert_eq "the CPU quadrant (not in alert) is not boxed" "$(pxf "$SHOT" $(( x + t / 2 )) $(( y + t / 2 )))" \
    "$(pxf "$ALL" $(( x + h - qf - 1 )) $(( y + h - 2 * qf - 2 )))"

# Alerts only: exactly the VMs in alert, their hosts only; none in alert: an empty grid.
"$WALL" --broker "$KG_BROKER_URI" --size 800x600 --alerts-only --screenshot "$KG_TMP/only.png" \
    --dump-layout "$KG_TMP/only.txt" >>"$KG_TMP/wall.log" 2>&1
kg_assert_eq "alerts only: exit status" 0 $?
kg_assert_eq "alerts only: the four VMs in alert" "hv1 c
hv1 p
hv1 st
hv2 o" "$(grep '^tile' "$KG_TMP/only.txt" | cut -d' ' -f2,3 | sort)"
kg_assert_eq "alerts only: every tile marked" 4 "$(grep -c '^tile .* alert ' "$KG_TMP/only.txt")"
kg_assert_contains "alerts only: hv3 (none in alert) hidden" "$(grep '^alerts' "$KG_TMP/only.txt")" "hosts_shown 2 filter 1"
set -- $(grep '^tile hv1 c ' "$KG_TMP/only.txt"); x=$4 y=$5 t=$6
kg_assert_eq "alerts only: the tile framed" FFFFFF "$(pxf "$KG_TMP/only.png" $x $(( y + t / 3 )))"
"$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PORT" -r -t "calm/hv9/vm/quiet" -m "$("$GRIDPUB" --print-vm hv9 quiet 10 running)"
"$WALL" --broker "$KG_BROKER_URI" --prefix calm --size 800x600 --alerts-only --screenshot "$KG_TMP/calm.png" \
    --dump-layout "$KG_TMP/calm.txt" >>"$KG_TMP/wall.log" 2>&1
kg_assert_eq "alerts only, none in alert: exit status" 0 $?
kg_assert_contains "... no block, no tile" "$(grep '^alerts' "$KG_TMP/calm.txt")" "alerts vms 0 hosts_shown 0 filter 1"
kg_assert_eq "... no tile lines" 0 "$(grep -c '^tile' "$KG_TMP/calm.txt")"

# 4 px tiles (about 100,000 VMs on 1920x1080): 2x2 px quadrants, each the colour of
# its metric's view; a VM in alert a white ring around a black core.
"$GRIDPUB" --broker "$KG_BROKER_URI" --prefix tiny --hosts 10 --vms 300 >"$KG_TMP/tiny-pub.log" 2>&1 ||
    kg_die "tiny grid publisher failed"
for m in all cpu mem disk net; do
    "$WALL" --broker "$KG_BROKER_URI" --prefix tiny --size 400x280 --metric $m \
        --screenshot "$KG_TMP/tiny-$m.png" --dump-layout "$KG_TMP/tiny-$m.txt" >>"$KG_TMP/wall.log" 2>&1 ||
        kg_fail "tiny grid, --metric $m"
done
tt=$(sed -n 's/^output .* tile \([0-9]*\) .*/\1/p' "$KG_TMP/tiny-all.txt")
kg_assert_eq "tiny grid: 4 px tiles" 4 "$tt"
calm=$(grep '^tile ' "$KG_TMP/tiny-all.txt" | grep -v ' alert' | head -n 1)
set -- $calm; x=$4 y=$5
kg_assert_eq "4 px: CPU quadrant" "$(pxf "$KG_TMP/tiny-cpu.png" $x $y)" "$(pxf "$KG_TMP/tiny-all.png" $x $y)"
kg_assert_eq "4 px: memory quadrant" "$(pxf "$KG_TMP/tiny-mem.png" $x $y)" "$(pxf "$KG_TMP/tiny-all.png" $(( x + 2 )) $y)"
kg_assert_eq "4 px: disk quadrant" "$(pxf "$KG_TMP/tiny-disk.png" $x $y)" "$(pxf "$KG_TMP/tiny-all.png" $x $(( y + 2 )))"
kg_assert_eq "4 px: network quadrant" "$(pxf "$KG_TMP/tiny-net.png" $x $y)" "$(pxf "$KG_TMP/tiny-all.png" $(( x + 3 )) $(( y + 3 )))"
hot=$(grep '^tile .* alert MEM' "$KG_TMP/tiny-all.txt" | head -n 1)
[ -n "$hot" ] || kg_die "no VM in alert in the tiny grid"
set -- $hot; x=$4 y=$5
kg_assert_eq "4 px in alert: white ring" FFFFFF "$(pxf "$KG_TMP/tiny-all.png" $x $y)"
kg_assert_eq "4 px in alert: ring, far corner" FFFFFF "$(pxf "$KG_TMP/tiny-all.png" $(( x + 3 )) $(( y + 3 )))"
kg_assert_eq "4 px in alert: black core" 000000 "$(pxf "$KG_TMP/tiny-all.png" $(( x + 1 )) $(( y + 2 )))"

# Same input again: deterministic pixels, below the header (whose alert line
# counts the seconds since the alerts began).
"$WALL" --broker "$KG_BROKER_URI" --size 800x600 --metric cpu --screenshot "$KG_TMP/again.png" >>"$KG_TMP/wall.log" 2>&1
below() { convert "$1" -crop 800x530+0+70 +repage ppm:- | cksum; }
if [ "$(below "$SHOT")" = "$(below "$KG_TMP/again.png")" ]; then kg_pass "identical pixels on a second run"; else kg_fail "pixels differ between runs"; fi

# Trends (the default history, 15 min in 5 s steps): without a mouse, --tooltip
# opens hv1/c's tooltip. Its panel's CPU sparkline (c runs at 100 %) has its white
# line in the box's top rows; hv1 sent host figures (CPU 25 %), so its label band
# has a trend (its light line somewhere in its box); hv3 sent none: no trend.
"$WALL" --broker "$KG_BROKER_URI" --size 800x600 \
    --tooltip hv1/c --screenshot "$KG_TMP/trends.png" --dump-layout "$KG_TMP/trends.txt" \
    >>"$KG_TMP/wall.log" 2>&1
kg_assert_eq "trends run exit status" 0 $?
cp "$KG_TMP/trends.txt" "$KG_TMP/trends.log"
# any X Y W H ROW0 ROWS COLOUR: does colour appear in rows ROW0.. ROW0+ROWS-1 of the box?
any() {
    _r=0; _pts=""
    while [ $_r -lt "$6" ]; do
        _c=0; while [ $_c -lt "$3" ]; do _pts="$_pts$(( $1 + _c )) $(( $2 + $5 + _r ))
"; _c=$((_c + 1)); done
        _r=$((_r + 1))
    done
    printf '%s' "$_pts" | "$PIXELS" "$KG_TMP/trends.png" | grep -c " $7\$"
}
set -- $(grep '^tooltip_trend cpu ' "$KG_TMP/trends.txt")
[ $# -eq 6 ] || kg_die "no tooltip sparkline in the layout: $(cat "$KG_TMP/trends.txt")"
n=$(any $3 $4 $5 $6 0 2 FFFFFF)
[ "$n" -gt 0 ] && kg_pass "tooltip CPU sparkline: the line at 100 % ($n px)" ||
    kg_fail "tooltip CPU sparkline: no line in the box's top rows"
kg_assert_eq "... and none at 0 %" 0 "$(any $3 $4 $5 $6 $(( $6 - 3 )) 3 FFFFFF)"
kg_assert_eq "tooltip: memory, disk and network too" 3 \
    "$(grep -c '^tooltip_trend \(mem\|disk\|net\) ' "$KG_TMP/trends.txt")"
set -- $(grep '^host_trend hv1 ' "$KG_TMP/trends.txt")
[ $# -eq 6 ] || kg_die "no host trend for hv1 in the layout: $(cat "$KG_TMP/trends.txt")"
n=$(any $3 $4 $5 $6 0 $6 E8E8E8)
[ "$n" -gt 0 ] && kg_pass "hv1's label band shows its CPU trend ($n px)" ||
    kg_fail "hv1's label band: no trend line"
kg_assert_not_contains "hv3 sent no host figures: no trend" "$(cat "$KG_TMP/trends.txt")" "host_trend hv3"
"$WALL" --broker "$KG_BROKER_URI" --size 800x600 --tooltip hv1/nosuchvm \
    --screenshot "$KG_TMP/notip.png" >"$KG_TMP/notip.log" 2>&1
kg_assert_eq "--tooltip of a VM not on the wall: exit status 1" 1 $?
kg_assert_contains "... and says why" "$(cat "$KG_TMP/notip.log")" "tooltip: no tile for hv1/nosuchvm"

# Nothing updates: with a 200 ms interval and 1 missed interval, hv3's VM (its host never
# told its own interval; hv1 said 1 h) turns stale, next to the agent-flagged one. The
# wall takes its screenshot only after 1 s without retained messages (> 200 ms), so
# this needs no sleep.
"$WALL" --broker "$KG_BROKER_URI" --size 800x600 --metric cpu --interval 200ms --stale-intervals 1 \
    --screenshot "$KG_TMP/stale.png" --dump-layout "$KG_TMP/stale.txt" >>"$KG_TMP/wall.log" 2>&1
kg_assert_eq "stale run exit status" 0 $?
kg_assert_contains "VMs without updates turn stale" "$(grep '^counts' "$KG_TMP/stale.txt")" "online 5 offline 1 stale 2"
LAYOUT=$KG_TMP/stale.txt SHOT=$KG_TMP/stale.png
set -- $(tile hv3 'x%2Fy%20z'); x=$4 y=$5 t=$6
cell=1; [ "$t" -ge 6 ] && cell=2; [ "$t" -ge 12 ] && cell=3
in=$(inside "$t") # stale is an alert: inside its frame
kg_assert_contains "time-stale VM flagged" "$(tile hv3 'x%2Fy%20z')" " stale"
kg_assert_contains "time-stale VM in alert" "$(tile hv3 'x%2Fy%20z')" " alert STALE"
kg_assert_eq "time-stale tile has the checkerboard" 000000 "$(px $(( x + in + cell )) $(( y + in )))"
set -- $(tile hv1 c); x=$4 y=$5
kg_assert_eq "hv1 (1 h interval) is not stale" FDE725 "$(px $(( x + in + cell )) $(( y + in )))"

# Caps: past max_hosts and max_vms the wall holds no more, and counts what it dropped
# (3 hosts and 8 VMs are retained; which ones are dropped depends on arrival order).
"$WALL" --broker "$KG_BROKER_URI" --size 800x600 --max-hosts 2 --max-vms 4 \
    --screenshot "$KG_TMP/caps.png" --dump-layout "$KG_TMP/caps.txt" >>"$KG_TMP/wall.log" 2>&1
kg_assert_eq "caps run exit status" 0 $?
kg_assert_contains "at most 2 hosts, 4 VMs" "$(grep '^counts' "$KG_TMP/caps.txt")" "hosts 2 "
kg_assert_contains "4 VMs held" "$(grep '^counts' "$KG_TMP/caps.txt")" " vms 4 "
drops=$(grep '^dropped' "$KG_TMP/caps.txt")
kg_assert_contains "caps reported" "$drops" "max_hosts 2 "
kg_assert_contains "caps reported" "$drops" "max_vms 4"
case "$drops" in
"dropped hosts 0 max_hosts 2 vms 0 "*) kg_fail "nothing counted as dropped: $drops" ;;
*) kg_pass "drops counted: $drops" ;;
esac
kg_assert_contains "no drops by default" "$(grep '^dropped' "$LAYOUT")" "dropped hosts 0 max_hosts 100000 vms 0 max_vms 2000000"

# Bad invocations: clear errors, exit 2.
"$WALL" --size 12 >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "bad --size exits 2" 2 $?
"$WALL" --metric gpu >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "bad --metric exits 2" 2 $?
kg_assert_contains "bad --metric message" "$(cat "$KG_TMP/bad.log")" "metric"
"$WALL" --prefix 'a/+/+' >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "bad --prefix (two '+' levels) exits 2" 2 $?
kg_assert_contains "bad --prefix message" "$(cat "$KG_TMP/bad.log")" "more than one '+' level"
"$WALL" --prefix 'a/#' >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "bad --prefix ('#') exits 2" 2 $?
"$WALL" --prefix 'a+/b' --check >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "bad --prefix ('+' inside a level) exits 2" 2 $?
"$WALL" --prefix '+/kvmgrid' --check >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "a region's prefix (+/kvmgrid) passes --check" 0 $?
"$WALL" --no-such-flag >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "unknown flag exits 2" 2 $?
printf 'broker = tcp://127.0.0.1:1\nbogus = 1\n' >"$KG_TMP/bad.conf"
"$WALL" --config "$KG_TMP/bad.conf" >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "bad config exits 2" 2 $?
kg_assert_contains "config error names file:line" "$(cat "$KG_TMP/bad.log")" "bad.conf:2"
printf 'metric = cpu\nbroker = tcp://127.0.0.1:1\nmetric = mem\n' >"$KG_TMP/dup.conf"
"$WALL" --config "$KG_TMP/dup.conf" >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "duplicate config key exits 2" 2 $?
kg_assert_contains "duplicate named with both lines" "$(cat "$KG_TMP/bad.log")" "dup.conf:3: 'metric' is already set on line 1"
"$WALL" --password-file "$KG_TMP/no-such-file" >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "missing password file exits 2" 2 $?
kg_assert_contains "missing password file named" "$(cat "$KG_TMP/bad.log")" "no-such-file"
printf 'secret\n' >"$KG_TMP/pw"
"$WALL" --password x --password-file "$KG_TMP/pw" >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "password and password_file exit 2" 2 $?
kg_assert_contains "... exclusive" "$(cat "$KG_TMP/bad.log")" "exclusive"
: >"$KG_TMP/pw-empty"
"$WALL" --password-file "$KG_TMP/pw-empty" >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "empty password file exits 2" 2 $?
"$WALL" --version | grep -q '^kvmgrid-wall ' && kg_pass "--version" || kg_fail "--version"
# The shipped example config works as it is, and shows every key the wall knows.
EXAMPLE=$KG_SOURCE_DIR/viewer/kvmgrid-wall.conf.example
"$WALL" --config "$EXAMPLE" --broker "$KG_BROKER_URI" --screenshot "$KG_TMP/example.png" >"$KG_TMP/example.log" 2>&1
kg_assert_eq "viewer/kvmgrid-wall.conf.example works" 0 $?
keys=$("$WALL" --help | sed -n 's/^  --\([a-z-]*\) .*/\1/p' | tr - _)
[ "$(echo "$keys" | wc -w)" -ge 20 ] || kg_fail "--help lists too few keys: $keys"
missing=""
for k in $keys; do grep -Eq "^#?$k =" "$EXAMPLE" || missing="$missing $k"; done
kg_assert_eq "every key is in the example config" "" "$missing"
# No broker at all: the screenshot is still written, exit 3.
"$WALL" --broker tcp://127.0.0.1:1 --timeout 1s --screenshot "$KG_TMP/none.png" >"$KG_TMP/none.log" 2>&1
kg_assert_eq "no broker: timeout exit status" 3 $?
[ -s "$KG_TMP/none.png" ] && kg_pass "no broker: picture still saved" || kg_fail "no picture without broker"
# A display that cannot be reached, and no SDL_VIDEODRIVER asking for a windowless
# one: SDL would fall back to its offscreen driver, and a wall would run on without
# a window, drawing for nobody. It must fail instead (exit 1, a kiosk unit restarts
# it); a screenshot, which needs no window, is still taken.
n=500; while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n + 1)); done
# (SDL's probe of the real drivers leaves libdbus's leak at exit, as under Xvfb: no leak check)
NODISPLAY="-u SDL_VIDEODRIVER -u WAYLAND_DISPLAY DISPLAY=:$n ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
kg_spawn nodisplay env $NODISPLAY "$WALL" --broker "$KG_BROKER_URI"
pid=$KG_LAST_PID
kg_wait_for 20 sh -c "! kill -0 $pid" || kg_fail "display :$n unreachable: the wall runs on without a window"
kg_stop "$pid"
kg_assert_eq "display unreachable: exit status 1" 1 "$KG_EXIT_STATUS"
kg_assert_contains "... and says why" "$(cat "$KG_TMP/nodisplay.log")" "no display: SDL offers only its windowless"
env $NODISPLAY "$WALL" --broker "$KG_BROKER_URI" --screenshot "$KG_TMP/nodisplay.png" \
    >"$KG_TMP/nodisplay-shot.log" 2>&1
kg_assert_eq "display unreachable, --screenshot: exit status 0" 0 $?
[ -s "$KG_TMP/nodisplay.png" ] &&
    kg_pass "... the picture saved" || kg_fail "... no picture"

#!/bin/sh
# SPDX-License-Identifier: MIT
# The wall against a real mosquitto: retained payloads with known values go in, the
# headless screenshot comes out, and the pixels at the tile positions the wall
# reports (--dump-layout) must have the specified colours and marks: viridis for
# 0/50/100 %, the paused bars, the hollow shut-off square, the stale checkerboard,
# the offline stripes and frame; a removed VM has no tile; an escaped name works.
# Then VMs that stop updating turn stale. Samples are taken only in a tile's top rows,
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
"$WALL" --broker "$KG_BROKER_URI" --size 800x600 --screenshot "$SHOT" --dump-layout "$LAYOUT" \
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

kg_assert_eq "0 % is viridis[0]" 440154 "$(centre hv1 a)"
kg_assert_eq "50 % is viridis[128]" 21918C "$(centre hv1 b)"
kg_assert_eq "100 % is viridis[255]" FDE725 "$(centre hv1 c)"
kg_assert_eq "escaped-name VM coloured" 21918C "$(centre hv3 'x%2Fy%20z')"

set -- $(tile hv1 p); x=$4 y=$5 t=$6
[ "$t" -ge 6 ] || kg_die "tiles too small for the mark checks ($t px)"
bw=$(( t / 6 )); sp=$(( t / 10 )); [ $sp -ge 1 ] || sp=1
kg_assert_eq "paused tile keeps its colour" FDE725 "$(px $x $y)"
kg_assert_eq "paused tile has a bar" FFFFFF "$(px $(( x + t / 2 - sp - bw )) $(( y + t / 2 )))"
kg_assert_eq "paused tile has a second bar" FFFFFF "$(px $(( x + t / 2 + sp )) $(( y + t / 2 )))"

set -- $(tile hv1 s); x=$4 y=$5 t=$6
kg_assert_eq "shut-off tile is hollow" 101014 "$(px $(( x + t / 2 )) $(( y + t / 2 )))"
kg_assert_eq "shut-off tile has an outline" 9A9AA0 "$(px $x $(( y + t / 2 )))"

set -- $(tile hv1 st); x=$4 y=$5 t=$6
cell=1; [ "$t" -ge 6 ] && cell=2; [ "$t" -ge 12 ] && cell=3
kg_assert_contains "stale tile flagged" "$(tile hv1 st)" " stale"
kg_assert_eq "stale checkerboard: colour cell" FDE725 "$(px $x $y)"
kg_assert_eq "stale checkerboard: dark cell" 000000 "$(px $(( x + cell )) $y)"
kg_assert_eq "stale checkerboard: next row" 000000 "$(px $x $(( y + cell )))"

set -- $(tile hv2 o); x=$4 y=$5 t=$6
kg_assert_eq "offline tile: dimmed colour row" 6C630F "$(px $(( x + t / 2 )) $y)"
kg_assert_eq "offline tile: dark stripe row" 000000 "$(px $(( x + t / 2 )) $(( y + 1 )))"
set -- $(grep '^host hv2 ' "$LAYOUT"); bx=$3 by=$4
kg_assert_eq "offline host has a frame" FF5A36 "$(px $(( bx - 1 )) $(( by + 3 )))"

# Same input again: deterministic pixels.
"$WALL" --broker "$KG_BROKER_URI" --size 800x600 --screenshot "$KG_TMP/again.png" >>"$KG_TMP/wall.log" 2>&1
if cmp -s "$SHOT" "$KG_TMP/again.png"; then kg_pass "identical pixels on a second run"; else kg_fail "pixels differ between runs"; fi

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
"$WALL" --broker "$KG_BROKER_URI" --size 800x600 --interval 200ms --stale-intervals 1 \
    --screenshot "$KG_TMP/stale.png" --dump-layout "$KG_TMP/stale.txt" >>"$KG_TMP/wall.log" 2>&1
kg_assert_eq "stale run exit status" 0 $?
kg_assert_contains "VMs without updates turn stale" "$(grep '^counts' "$KG_TMP/stale.txt")" "online 5 offline 1 stale 2"
LAYOUT=$KG_TMP/stale.txt SHOT=$KG_TMP/stale.png
set -- $(tile hv3 'x%2Fy%20z'); x=$4 y=$5 t=$6
cell=1; [ "$t" -ge 6 ] && cell=2; [ "$t" -ge 12 ] && cell=3
kg_assert_contains "time-stale VM flagged" "$(tile hv3 'x%2Fy%20z')" " stale"
kg_assert_eq "time-stale tile has the checkerboard" 000000 "$(px $(( x + cell )) $y)"
set -- $(tile hv1 c); x=$4 y=$5
kg_assert_eq "hv1 (1 h interval) is not stale" FDE725 "$(px $(( x + cell )) $y)"

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
"$WALL" --prefix 'a/+' >"$KG_TMP/bad.log" 2>&1; kg_assert_eq "bad --prefix exits 2" 2 $?
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

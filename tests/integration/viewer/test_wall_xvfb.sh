#!/bin/sh
# SPDX-License-Identifier: MIT
# The wall in a real X window (Xvfb), driven by xdotool like an operator would:
# the picture appears, a metric key changes it, hovering shows a tooltip, h shows
# the help, Enter zooms into a host and Esc comes back, q quits with status 0.
# The operator's keys do nothing on a plain wall; on a wall in operator mode,
# arrows and a click select a VM, F5/F8 send its load generator a command that
# a subscriber sees byte for byte, and nothing else reaches the broker.
# Screens are read with xwd (docs/PLATFORM.md: the same pixels as SDL's own).
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

WALL=$(kg_bin kvmgrid-wall)
command -v xvfb-run >/dev/null || kg_die "xvfb-run missing (package xvfb)"

if [ "${1:-}" = "--inner" ]; then
    # Runs inside xvfb-run with DISPLAY set; the broker comes from the outer run.
    . "$KG_SOURCE_DIR/tests/integration/viewer/xwall.sh"
    # --interval 1h: nothing turns stale while the test runs, so pictures can be compared
    kg_spawn wall "$WALL" --broker "$OUTER_BROKER_URI" --size 1024x640 --metric cpu --interval 1h
    WALL_PID=$KG_LAST_PID LOG=$KG_TMP/wall.log
    wait_window "plain wall"
    settle "retained state drawn" "settled 1" "inputs 0" "metric cpu"
    base=$LAST
    focus "plain wall"
    colours=$(convert "$base" -format %k info:)
    [ "$colours" -gt 20 ] && kg_pass "window shows the heatmap ($colours colours)" || kg_fail "window nearly empty ($colours colours)"

    key 3; settle "key 3" "inputs $INPUTS" "metric disk"; disk=$LAST
    differs "key 3 (disk metric)" "$base" "$disk"
    key 1; settle "key 1" "inputs $INPUTS" "metric cpu"
    same "back to the same CPU picture after 3, 1" "$base" "$LAST"

    eval "$(xdotool getwindowgeometry --shell "$WID")" || kg_die "no geometry for window [$WID]"
    xdotool mousemove $((X + 40)) $((Y + 110))
    settle "hovering a tile" "tooltip 1"; tip=$LAST
    differs "hovering a tile shows the tooltip" "$base" "$tip"
    key h; settle "h" "inputs $INPUTS" "help 1"; help=$LAST
    differs "h shows the help" "$tip" "$help"
    key h; settle "h again" "inputs $INPUTS" "help 0"; nohelp=$LAST
    differs "h hides the help" "$help" "$nohelp"
    key Return; settle "Enter" "inputs $INPUTS" "zoomed 1"; zoom=$LAST
    differs "Enter zooms into the host" "$nohelp" "$zoom"
    key Escape; settle "Esc" "inputs $INPUTS" "zoomed 0"; unzoomed=$LAST
    differs "Esc leaves the zoom" "$zoom" "$unzoomed"
    key s; settle "s" "inputs $INPUTS" "sort load"; sorted=$LAST
    differs "s sorts by load" "$unzoomed" "$sorted"
    key p; settle "p" "inputs $INPUTS" "paused 1"; paused=$LAST
    differs "p pauses (header says so)" "$sorted" "$paused"
    key p; settle "p again" "inputs $INPUTS" "paused 0"; resumed=$LAST
    differs "p resumes" "$paused" "$resumed"
    xdotool windowsize "$WID" 800 500
    settle "resize" "size 800x500"; small=$LAST
    differs "resize re-lays out the picture" "$resumed" "$small"
    # full screen = the whole 1280x800 Xvfb screen, once X has resized the window
    key F11; settle "F11" "inputs $INPUTS" "fullscreen 1" "size 1280x800"
    differs "F11 goes full screen" "$small" "$LAST"
    # (Xvfb has no window manager, so where a full-screen window ends up is not checked.)
    grep -q "ERROR\|runtime error" "$LOG" && kg_fail "errors in the wall's log" || kg_pass "no errors logged"

    # Everything published on any load/cmd topic from now on.
    kg_spawn cmds "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$OUTER_PORT" -t 'kvmgrid/+/load/cmd' -v
    marker() { # NAME: publishes NAME once, waits until the subscriber has it
        "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$OUTER_PORT" -t kvmgrid/marker/load/cmd -m "$1"
        kg_wait_for 5 grep -q "^kvmgrid/marker/load/cmd $1\$" "$KG_TMP/cmds.log"
    }
    i=0; until marker "start-$i"; do i=$((i + 1)); [ $i -lt 10 ] || kg_die "no marker came back"; done

    # Without operator mode, the operator's keys select and send nothing.
    key Right; key F5; key F8
    settle "operator keys without operator mode" "inputs $INPUTS" "operator 0" "sent 0" "selected -"
    quit "plain wall"

    # Operator mode: arrows and a click select, F5 and F8 send.
    kg_spawn wall-op "$WALL" --broker "$OUTER_BROKER_URI" --size 1024x640 --metric cpu --interval 1h \
        --operator --username operator@xvfb
    WALL_PID=$KG_LAST_PID LOG=$KG_TMP/wall-op.log INPUTS=0
    wait_window "operator wall"
    settle "operator wall: retained state drawn" "settled 1" "operator 1" "selected -"
    focus "operator wall"
    opbase=$LAST
    key Right; settle "first arrow selects the first VM" "inputs $INPUTS" "selected hv0000/vm000"
    differs "the selected tile is framed" "$opbase" "$LAST"
    key Right; settle "Right: next VM" "inputs $INPUTS" "selected hv0000/vm001"
    key Down; settle "Down: one row down" "inputs $INPUTS"
    down=$(echo "$VIEW" | sed -n 's/.* selected hv0000\/\(vm[0-9]*\)$/\1/p')
    [ -n "$down" ] && [ "$down" != vm001 ] && kg_pass "Down moved to $down" || kg_fail "Down: [$VIEW]"
    before=$LAST
    key F5; settle "F5 sends" "inputs $INPUTS" "sent 1" "failed 0"
    differs "the status bar confirms" "$before" "$LAST"
    eval "$(xdotool getwindowgeometry --shell "$WID")" || kg_die "no geometry for window [$WID]"
    xdotool mousemove $((X + 40)) $((Y + 110)) click 1
    INPUTS=$((INPUTS + 1))
    settle "a click selects the tile under the mouse" "inputs $INPUTS" "selected hv0000/vm000"
    key F8; settle "F8 sends stop" "inputs $INPUTS" "sent 2" "failed 0"
    key Escape; settle "Esc clears the selection" "inputs $INPUTS" "selected -"
    key F5; settle "F5 with nothing selected" "inputs $INPUTS" "sent 2" "failed 1"
    marker end || kg_fail "the closing marker never came back"
    grep -v '^kvmgrid/marker/load/cmd start-' "$KG_TMP/cmds.log" >"$KG_TMP/seen.txt"
    printf '%s\n' \
        "kvmgrid/$down/load/cmd {\"schema\":1,\"cmd\":\"start\",\"id\":\"wall-1\",\"kind\":\"cpu\",\"duration_s\":60,\"pct\":80}" \
        'kvmgrid/vm000/load/cmd {"schema":1,"cmd":"stop","id":"wall-2"}' \
        'kvmgrid/marker/load/cmd end' >"$KG_TMP/expected.txt"
    if cmp -s "$KG_TMP/expected.txt" "$KG_TMP/seen.txt"; then
        kg_pass "the broker saw exactly the operator's two commands (none from the plain wall)"
    else
        kg_fail "commands on the wire differ: $(diff "$KG_TMP/expected.txt" "$KG_TMP/seen.txt")"
    fi
    quit "operator wall"
    exit 0
fi

kg_broker_start
"$(kg_bin kg-wall-gridpub)" --broker "$KG_BROKER_URI" --hosts 12 --vms 20 >"$KG_TMP/gridpub.log" 2>&1 ||
    kg_die "grid publisher failed"
# -noreset: the X server must not regenerate when the first wall, its last client,
# quits: a wall connecting meanwhile can be refused (seen: "no operator window
# appeared"; xwall.sh).
OUTER_BROKER_URI=$KG_BROKER_URI OUTER_PORT=$KG_PORT xvfb-run -a -s "-screen 0 1280x800x24 -noreset" "$0" --inner
kg_assert_eq "window test under Xvfb" 0 $?

#!/bin/sh
# SPDX-License-Identifier: MIT
# The wall in a real X window (Xvfb), driven by xdotool like an operator would:
# the picture appears, a metric key changes it, hovering shows a tooltip, h shows
# the help, Enter zooms into a host and Esc comes back, q quits with status 0.
# Screens are read with xwd (FACTS.md: identical to SDL's own pixels).
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

WALL=$(kg_bin kvmgrid-wall)
command -v xvfb-run >/dev/null || kg_die "xvfb-run missing (package xvfb)"
command -v xdotool >/dev/null || kg_die "xdotool missing"
command -v xwd >/dev/null || kg_die "xwd missing (package x11-apps)"

if [ "${1:-}" = "--inner" ]; then
    # Runs inside xvfb-run with DISPLAY set; the broker comes from the outer run.
    unset SDL_VIDEODRIVER SDL_RENDER_DRIVER
    # Under -fsanitize=address, X11's libdbus and the dlopen'ed (then unloaded) Mesa
    # drivers leak a few hundred bytes at exit that no suppression can name; the headless
    # tests keep leak checking on for the wall's own code.
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    # --interval 1h: nothing turns stale while the test runs, so pictures can be compared
    kg_spawn wall "$WALL" --broker "$OUTER_BROKER_URI" --size 1024x640 --metric cpu --interval 1h
    WALL_PID=$KG_LAST_PID
    kg_wait_for 10 xdotool search --name '^kvmgrid-wall$' || kg_die "no window appeared"
    WID=$(xdotool search --name '^kvmgrid-wall$' | head -n 1)
    xdotool windowfocus --sync "$WID" 2>/dev/null || xdotool windowfocus "$WID"
    # shot: saves the screen into a new file and prints its name (runs in $(...), so no counters)
    shot() { f=$(mktemp "$KG_TMP/shot.XXXXXX"); xwd -root -silent | convert xwd:- "ppm:$f"; echo "$f"; }  # PPM: no timestamps inside
    # differs FILE: a new screen differs from FILE (sets LAST)
    differs() { LAST=$(shot); ! cmp -s "$1" "$LAST"; }
    # stable: two screens in a row are the same (the retained burst has been drawn)
    stable() { a=$(shot); b=$(shot); cmp -s "$a" "$b" && LAST=$b; }
    kg_wait_for 10 grep -q "retained state" "$KG_TMP/wall.log" || kg_fail "wall never got the retained state"
    kg_wait_for 10 stable || kg_fail "picture never settled"
    base=$LAST
    colours=$(convert "$base" -format %k info:)
    [ "$colours" -gt 20 ] && kg_pass "window shows the heatmap ($colours colours)" || kg_fail "window nearly empty ($colours colours)"

    xdotool key 3
    kg_wait_for 5 differs "$base" && kg_pass "key 3 (disk metric) changes the picture" || kg_fail "key 3 changed nothing"
    kg_wait_for 5 stable; disk=$LAST
    xdotool key 1
    kg_wait_for 5 differs "$disk" && kg_pass "key 1 changes it back" || kg_fail "key 1 changed nothing"
    kg_wait_for 5 stable
    if cmp -s "$base" "$LAST"; then kg_pass "back to the same CPU picture"; else kg_fail "CPU picture differs after 3, 1"; fi

    eval "$(xdotool getwindowgeometry --shell "$WID")"
    xdotool mousemove $((X + 40)) $((Y + 110))
    kg_wait_for 5 differs "$base" && kg_pass "hovering a tile shows the tooltip" || kg_fail "no tooltip"
    kg_wait_for 5 stable; tip=$LAST
    xdotool key h
    kg_wait_for 5 differs "$tip" && kg_pass "h shows the help" || kg_fail "h changed nothing"
    kg_wait_for 5 stable; help=$LAST
    xdotool key h
    kg_wait_for 5 differs "$help" && kg_pass "h hides the help" || kg_fail "help stays"
    kg_wait_for 5 stable; nohelp=$LAST
    xdotool key Return
    kg_wait_for 5 differs "$nohelp" && kg_pass "Enter zooms into the host" || kg_fail "Enter changed nothing"
    kg_wait_for 5 stable; zoom=$LAST
    xdotool key Escape
    kg_wait_for 5 differs "$zoom" && kg_pass "Esc leaves the zoom" || kg_fail "Esc changed nothing"
    kg_wait_for 5 stable; unzoomed=$LAST
    xdotool key s
    kg_wait_for 5 differs "$unzoomed" && kg_pass "s sorts by load" || kg_fail "s changed nothing"
    kg_wait_for 5 stable; sorted=$LAST
    xdotool key p
    kg_wait_for 5 differs "$sorted" && kg_pass "p pauses (header says so)" || kg_fail "p changed nothing"
    kg_wait_for 5 stable; paused=$LAST
    xdotool key p
    kg_wait_for 5 differs "$paused" && kg_pass "p resumes" || kg_fail "p again changed nothing"
    kg_wait_for 5 stable; resumed=$LAST
    xdotool windowsize "$WID" 800 500
    kg_wait_for 5 differs "$resumed" && kg_pass "resize re-lays out the picture" || kg_fail "resize changed nothing"
    kg_wait_for 5 stable; small=$LAST
    xdotool key F11
    kg_wait_for 5 differs "$small" && kg_pass "F11 goes full screen" || kg_fail "F11 changed nothing"
    # (Xvfb has no window manager, so where a full-screen window ends up is not checked.)
    grep -q "ERROR\|runtime error" "$KG_TMP/wall.log" && kg_fail "errors in the wall's log" || kg_pass "no errors logged"
    xdotool key q
    kg_wait_for 5 sh -c "! kill -0 $WALL_PID" || kg_fail "q did not quit"
    kg_stop "$WALL_PID"
    kg_assert_eq "exit status after q" 0 "$KG_EXIT_STATUS"
    exit 0
fi

kg_broker_start
"$(kg_bin kg-wall-gridpub)" --broker "$KG_BROKER_URI" --hosts 12 --vms 20 >"$KG_TMP/gridpub.log" 2>&1 ||
    kg_die "grid publisher failed"
OUTER_BROKER_URI=$KG_BROKER_URI xvfb-run -a -s "-screen 0 1280x800x24" "$0" --inner
kg_assert_eq "window test under Xvfb" 0 $?

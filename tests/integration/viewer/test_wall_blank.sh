#!/bin/sh
# SPDX-License-Identifier: MIT
# The screen never blanks while the wall runs, even in a session that lets SDL
# programs blank it (SDL_VIDEO_ALLOW_SCREENSAVER=1). An X server (Xvfb, as a kiosk's
# bare X) set to blank after 2 s of no input: without a wall it blanks (the check
# can fail); with a wall that nobody touches for several times that long it never
# does; once the wall has quit, it blanks again (the wall gave the screen back).
# The screen saver's state comes from the MIT-SCREEN-SAVER extension
# (kg-xss-state): Xvfb blanks without changing the pixels xwd would read.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

WALL=$(kg_bin kvmgrid-wall) XSS=$(kg_bin kg-xss-state)
command -v xvfb-run >/dev/null || kg_die "xvfb-run missing (package xvfb)"
command -v xset >/dev/null || kg_die "xset missing (package x11-xserver-utils)"

# saver_is STATE: the screen saver's state is STATE now
saver_is() { "$XSS" | grep -q "^state $1 "; }

if [ "${1:-}" = "--inner" ]; then
    . "$KG_SOURCE_DIR/tests/integration/viewer/xwall.sh"
    "$XSS" >/dev/null || kg_die "cannot read the screen saver's state"
    xset s 2 2 s blank || kg_die "xset cannot set the screen saver"
    kg_wait_for 10 saver_is on && kg_pass "without a wall, the idle screen blanks" ||
        kg_fail "the screen never blanked without a wall: $("$XSS")"
    xset s reset

    # SDL's default already holds the screen saver off; some sessions allow it for
    # every SDL program (the hint below): the wall must hold it off all the same.
    kg_spawn wall env SDL_VIDEO_ALLOW_SCREENSAVER=1 "$WALL" --broker "$OUTER_BROKER_URI" --size 640x400 --interval 1h
    WALL_PID=$KG_LAST_PID LOG=$KG_TMP/wall.log
    kg_wall_wait_window "wall"
    kg_wall_settle "retained state drawn" "settled 1"
    # Nobody touches anything for 4 blanking timeouts; the state is read twice a second.
    blanked="" n=0
    while [ $n -lt 16 ]; do
        saver_is on && blanked="$blanked $n"
        sleep 0.5
        n=$((n + 1))
    done
    state=$("$XSS")
    idle=$(echo "$state" | awk '{ print $4 }')
    kg_assert_ge "no input reached X meanwhile (idle ms)" "$idle" 6000
    kg_assert_eq "the screen never blanked while the wall ran ($state)" "" "$blanked"
    kg_wall_quit "wall"
    kg_wait_for 10 saver_is on && kg_pass "after the wall quit, the idle screen blanks again" ||
        kg_fail "the screen saver stayed off after the wall quit: $("$XSS")"
    exit 0
fi

kg_broker_start
"$(kg_bin kg-wall-gridpub)" --broker "$KG_BROKER_URI" --hosts 4 --vms 10 >"$KG_TMP/gridpub.log" 2>&1 ||
    kg_die "grid publisher failed"
# -noreset: the X server keeps the screen-saver settings when a client leaves
OUTER_BROKER_URI=$KG_BROKER_URI xvfb-run -a -s "-screen 0 800x600x24 -noreset" sh "$0" --inner
kg_assert_eq "screen-saver test under Xvfb" 0 $?

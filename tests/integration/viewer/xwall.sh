# SPDX-License-Identifier: MIT
# Helpers for tests that drive kvmgrid-wall in a real X window: source it after
# tests/integration/lib.sh, inside xvfb-run (DISPLAY set). The wall under test is
# $WALL_PID, logging into $LOG; INPUTS counts the keys and clicks it acts on.
#
# No timing anywhere: after each action the test asks the wall what it shows
# (SIGUSR1 -> a "view ..." line: inputs handled, metric, help, tooltip, size, sent,
# failed, selected, and "pending 0" once everything received and handled has been
# presented), and only then reads the screen, until two screens in a row agree
# (the X server may still be copying the last frame when the wall reports it).
# Screens are read with xwd (docs/PLATFORM.md: the same pixels as SDL's own).
command -v xdotool >/dev/null || kg_die "xdotool missing"
command -v xwd >/dev/null || kg_die "xwd missing (package x11-apps)"

# X11 only. A wall that cannot reach the X server once ran on SDL's windowless
# offscreen fallback, drawing for nobody: the one "no operator window appeared"
# (its log: connected, retained state drawn, no window in 30 s). Its X connection
# had been refused while Xvfb regenerated after the first wall, its last client,
# quit (3 walls in 100 started right after the last client left a starved Xvfb;
# none with -noreset). The wall now refuses that fallback itself (exit 1, "no
# display"); pinned to x11, it fails with SDL's own reason too.
export SDL_VIDEODRIVER=x11
unset SDL_RENDER_DRIVER
# Under -fsanitize=address, X11's libdbus and the dlopen'ed (then unloaded) Mesa
# drivers leak a few hundred bytes at exit that no suppression can name; the headless
# tests keep leak checking on for the wall's own code.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
INPUTS=0

# kg_wall_wait_window WHAT: waits for the wall's window to exist (only then may SIGUSR1
# come: the wall installs its handler before it opens the window, and the signal's
# default action would end it). Dies with the wall's status, or the windows on the
# display, when none comes.
kg_wall_wait_window() {
    _deadline=$(( $(date +%s) + 30 ))
    until xdotool search --name '^kvmgrid-wall$' >/dev/null 2>&1; do
        if ! kill -0 "$WALL_PID" 2>/dev/null; then
            wait "$WALL_PID"
            kg_die "$1: the wall exited (status $?) before its window appeared (log: $LOG)"
        fi
        if [ "$(date +%s)" -ge "$_deadline" ]; then
            kg_log "windows on the display: $(xdotool search --name '.' getwindowname %@ 2>&1 | tr '\n' '|')"
            kg_die "$1: no window appeared"
        fi
        sleep 0.1
    done
}
# kg_wall_find_window: the wall's window id in WID. Only once the wall answers a report:
# its renderer then exists, and SDL may replace the first window it made by an
# OpenGL-capable one while creating it (a search before that found a window id
# that was gone a moment later).
kg_wall_find_window() {
    WID=$(xdotool search --name '^kvmgrid-wall$' 2>/dev/null | head -n 1)
    [ -n "$WID" ] && xdotool getwindowgeometry "$WID" >/dev/null 2>&1
}
# kg_wall_focus WHAT: finds the window (after a settle) and gives it the keyboard
kg_wall_focus() {
    kg_wait_for 30 kg_wall_find_window || kg_die "$1: no window found"
    xdotool windowfocus --sync "$WID" 2>/dev/null || xdotool windowfocus "$WID"
}
# kg_wall_view: prints the wall's answer to a fresh SIGUSR1
kg_wall_view() {
    n=$(grep -c '^view ' "$LOG")
    kill -USR1 "$WALL_PID" || return 1
    kg_wait_for 10 sh -c "[ \$(grep -c '^view ' '$LOG') -gt $n ]" || return 1
    grep '^view ' "$LOG" | tail -n 1
}
# kg_wall_view_has "KEY VALUE"...: the wall's state has every pair, and nothing pending
kg_wall_view_has() {
    VIEW=$(kg_wall_view) || return 1
    for w in "$@" "pending 0"; do case "$VIEW " in *" $w "*) ;; *) return 1 ;; esac; done
}
# kg_screen_shot: saves the screen into a new file and prints its name (PPM: no timestamps inside)
kg_screen_shot() { f=$(mktemp "$KG_TMP/shot.XXXXXX"); xwd -root -silent | convert xwd:- "ppm:$f"; echo "$f"; }
# kg_screen_stable: two screens in a row are the same (sets LAST). The two are raw xwd dumps
# taken back to back and converted only when equal: a tooltip's "received N s ago"
# ticks every second, and two converted shots took long enough on a loaded
# machine to straddle the tick every time.
kg_screen_stable() {
    a=$(mktemp "$KG_TMP/raw.XXXXXX"); b=$(mktemp "$KG_TMP/raw.XXXXXX")
    xwd -root -silent >"$a"; xwd -root -silent >"$b"
    if cmp -s "$a" "$b"; then
        LAST=$(mktemp "$KG_TMP/shot.XXXXXX"); convert "xwd:$b" "ppm:$LAST"
        rm -f "$a" "$b"
        return 0
    fi
    rm -f "$a" "$b"
    return 1
}
# kg_wall_settle WHAT "KEY VALUE"...: waits for that state, then for a stable screen in LAST
kg_wall_settle() {
    _what=$1; shift
    if kg_wait_for 30 kg_wall_view_has "$@"; then kg_pass "$_what (wall reports: $*)"
    else kg_fail "$_what: the wall never reported [$*]; last: ${VIEW:-none}"; fi
    kg_wait_for 10 kg_screen_stable || kg_fail "$_what: the screen never settled"
}
# kg_wall_key KEY: one key press, counted (the wall counts every key it acts on)
kg_wall_key() { xdotool key "$1"; INPUTS=$((INPUTS + 1)); }
# kg_screen_differs WHAT A B / kg_screen_same WHAT A B: compare two screens
kg_screen_differs() { if cmp -s "$2" "$3"; then kg_fail "$1: the picture did not change"; else kg_pass "$1: the picture changed"; fi; }
kg_screen_same() { if cmp -s "$2" "$3"; then kg_pass "$1"; else kg_fail "$1"; fi; }
# kg_wall_band SHOT TOP HEIGHT: the rows TOP .. TOP+HEIGHT-1 of the wall's window (TOP < 0:
# counted from its bottom edge) in a screen shot, saved into a new file; prints its name
kg_wall_band() {
    eval "$(xdotool getwindowgeometry --shell "$WID")" || kg_die "no geometry for window [$WID]"
    _top=$2; [ "$_top" -lt 0 ] && _top=$((HEIGHT + _top))
    _f=$(mktemp "$KG_TMP/band.XXXXXX")
    convert "$1" -crop "${WIDTH}x$3+$X+$((Y + _top))" +repage "ppm:$_f"
    echo "$_f"
}
# kg_wall_quit WHAT: q ends the wall with status 0
kg_wall_quit() {
    xdotool key q
    kg_wait_for 5 sh -c "! kill -0 $WALL_PID" || kg_fail "$1: q did not quit"
    kg_stop "$WALL_PID"
    kg_assert_eq "$1: exit status after q" 0 "$KG_EXIT_STATUS"
}

#!/bin/sh
# SPDX-License-Identifier: MIT
# Operator mode while its MQTT session is not connected, in a real X window (Xvfb)
# driven by xdotool: with a VM selected, the broker goes away; F5 then sends
# nothing, the wall says "not sent: not connected to the broker" (status line and
# log) and counts a failure. The broker comes back refusing the operator's
# password (rotated): F6 likewise. The broker accepts the password again: the wall
# reconnects, and the broker receives no command until the operator presses F8,
# then exactly that one (id wall-1: refused commands use no id). The wall answers
# every report, never crashes, and q still quits with status 0.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

WALL=$(kg_bin kvmgrid-wall)
command -v xvfb-run >/dev/null || kg_die "xvfb-run missing (package xvfb)"
command -v mosquitto_passwd >/dev/null || kg_die "mosquitto_passwd missing (package mosquitto)"

if [ "${1:-}" != "--inner" ]; then
    # -noreset: the X server does not regenerate between clients (xwall.sh)
    xvfb-run -a -s "-screen 0 1280x800x24 -noreset" "$0" --inner
    kg_assert_eq "operator offline test under Xvfb" 0 $?
    exit 0
fi

. "$KG_SOURCE_DIR/tests/integration/viewer/xwall.sh"

# The broker knows operator@off (anonymous clients still get in: the grid
# publisher, the command subscriber). Its log records every PUBLISH it receives.
printf 'good-secret\n' >"$KG_TMP/op.pass"
set_password() { # PASSWORD: operator@off's password at the broker's next start
    rm -f "$KG_TMP/passwd"
    mosquitto_passwd -b -c "$KG_TMP/passwd" operator@off "$1" 2>>"$KG_TMP/setup.log" || kg_die "mosquitto_passwd"
}
set_password good-secret
# user root: the password file lies in this test's private directory
printf 'password_file %s\nuser root\nlog_type debug\n' "$KG_TMP/passwd" >"$KG_TMP/auth.conf"
kg_broker_start "$KG_TMP/auth.conf"
BLOG=$KG_TMP/mosquitto.log
"$(kg_bin kg-wall-gridpub)" --broker "$KG_BROKER_URI" --hosts 2 --vms 6 >"$KG_TMP/gridpub.log" 2>&1 ||
    kg_die "grid publisher failed"

# --history 0: trends would move the tiles' pictures with time, which are compared here
kg_spawn wall "$WALL" --broker "$KG_BROKER_URI" --size 1024x640 --metric cpu --interval 1h --history 0 \
    --operator --username operator@off --password-file "$KG_TMP/op.pass" --client-id wall-off
WALL_PID=$KG_LAST_PID LOG=$KG_TMP/wall.log
kg_wall_wait_window "operator wall"
kg_wall_settle "retained state drawn" "settled 1" "operator 1" "selected -"
kg_wall_focus "operator wall"
# the pointer off the window: no tooltip (its "received N s ago" would change the grid)
xdotool mousemove 0 0
kg_wall_key Right; kg_wall_settle "first arrow selects the first VM" "inputs $INPUTS" "selected hv0000/vm000" "tooltip 0"
connected=$LAST
# header: the window's top rows (prefix, broker, connected or NOT CONNECTED); grid:
# the tiles, well between the header and the legend; status: the bottom rows
header() { kg_wall_band "$1" 0 40; }
grid() { kg_wall_band "$1" 80 400; }
status() { kg_wall_band "$1" -14 14; }
refusals() { grep -c 'not sent: not connected to the broker' "$LOG"; }
kg_assert_eq "nothing refused yet" 0 "$(refusals)"

# 1. The broker goes away.
kg_broker_stop
kg_assert_eq "broker stopped" 0 "$KG_EXIT_STATUS"
# both sessions (reading, commands) have noticed
lost() { [ "$(grep -c 'mqtt: connection to .* lost' "$LOG")" -ge 2 ]; }
kg_wait_for 20 lost || kg_fail "the wall never noticed the broker going (log: $LOG)"
kg_wall_settle "broker gone: the header redrawn" "inputs $INPUTS" "selected hv0000/vm000"
kg_screen_differs "the header says NOT CONNECTED" "$(header "$connected")" "$(header "$LAST")"
kg_screen_same "... the tiles stay as they were" "$(grid "$connected")" "$(grid "$LAST")"
gone=$LAST
kg_wall_key F5; kg_wall_settle "F5 while the broker is down" "inputs $INPUTS" "sent 0" "failed 1" "selected hv0000/vm000"
kg_screen_differs "the status line says why" "$(status "$gone")" "$(status "$LAST")"
kg_screen_same "... the selection stays" "$(grid "$gone")" "$(grid "$LAST")"
kg_assert_eq "... logged once: not sent, not connected" 1 "$(refusals)"
kg_assert_contains "... as a warning" "$(grep 'operator: not sent' "$LOG")" \
    "warn: operator: not sent: not connected to the broker"

# 2. The broker is back, but the operator's password has been changed there.
set_password rotated-secret
mark=$(wc -l <"$BLOG")
kg_broker_start "$KG_TMP/auth.conf"
# the wall's sessions keep trying, and the broker keeps refusing them
refused() { [ "$(tail -n +"$((mark + 1))" "$BLOG" | grep -c 'disconnected, not authorised')" -ge 2 ]; }
kg_wait_for 30 refused || kg_fail "the broker never refused the wall's password (log: $BLOG)"
kg_wall_key F6; kg_wall_settle "F6 while the broker refuses the password" "inputs $INPUTS" "sent 0" "failed 2"
kg_assert_eq "... logged: not sent, not connected" 2 "$(refusals)"
kill -0 "$WALL_PID" 2>/dev/null && kg_pass "wall still running" || kg_die "the wall died"

# 3. The password is accepted again: the wall reconnects, and sends nothing unasked.
kg_broker_stop
set_password good-secret
mark=$(wc -l <"$BLOG")
kg_broker_start "$KG_TMP/auth.conf"
back() { [ "$(grep -c 'mqtt: \(reconnected to\|connected to .* again\)' "$LOG")" -ge 2 ]; }
kg_wait_for 60 back || kg_fail "the wall never reconnected both sessions (log: $LOG)"
kg_spawn cmds "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t 'kvmgrid/+/load/cmd' -v
marker() { # NAME: publishes NAME once, waits until the subscriber has it
    kg_pub kvmgrid/marker/load/cmd "$1"
    kg_wait_for 5 grep -q "^kvmgrid/marker/load/cmd $1\$" "$KG_TMP/cmds.log"
}
i=0; until marker "start-$i"; do i=$((i + 1)); [ $i -lt 10 ] || kg_die "no marker came back"; done
kg_wall_settle "reconnected" "inputs $INPUTS" "settled 1" "sent 0" "failed 2"
kg_wall_key F8; kg_wall_settle "F8 once connected" "inputs $INPUTS" "sent 1" "failed 2"
kg_assert_contains "... confirmed" "$(grep 'operator: sent' "$LOG")" \
    "(id wall-1) to kvmgrid/vm000/load/cmd"
marker end || kg_fail "the closing marker never came back"
grep -v '^kvmgrid/marker/load/cmd start-' "$KG_TMP/cmds.log" >"$KG_TMP/seen.txt"
printf '%s\n' 'kvmgrid/vm000/load/cmd {"schema":1,"cmd":"stop","id":"wall-1"}' \
    'kvmgrid/marker/load/cmd end' >"$KG_TMP/expected.txt"
if cmp -s "$KG_TMP/expected.txt" "$KG_TMP/seen.txt"; then
    kg_pass "the subscriber saw only the F8 command"
else
    kg_fail "commands on the wire differ: $(diff "$KG_TMP/expected.txt" "$KG_TMP/seen.txt")"
fi
# The broker's own record since it came back (the subscriber came later): the
# command session published exactly once, F8's stop, and the refused F5 and F6
# never arrived.
kg_assert_eq "the broker received one PUBLISH from the command session" 1 \
    "$(tail -n +"$((mark + 1))" "$BLOG" | grep -c 'Received PUBLISH from wall-off-cmd ')"
kg_assert_eq "... and none before, in all three of its runs" 1 \
    "$(grep -c 'Received PUBLISH from wall-off-cmd ' "$BLOG")"
grep -q "ERROR\|runtime error" "$LOG" && kg_fail "errors in the wall's log" || kg_pass "no errors logged"
kg_wall_quit "operator wall"
exit 0

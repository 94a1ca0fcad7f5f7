#!/bin/sh
# SPDX-License-Identifier: MIT
# kvmgrid's own programs against production.conf over TLS, each with its role's
# credentials from mkusers.sh (password_file): kvmgrid-agent (libvirt's test
# driver) publishes its host and VMs; kvmgrid-load --listen serves its node's
# commands, sent by an operator with kvmgrid-load --send; a wall user sees it
# all. An agent whose host does not match its user name gets nothing through.
# kvmgrid-wall logs in as wall@lobby (password_file) over TLS, draws hv01's VM
# headless and exits 0; told to send a load command, the broker drops it.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/broker-config/broker-lib.sh"

AGENT=$(kg_bin kvmgrid-agent)
LOAD=$(kg_bin kvmgrid-load)
WALL=$(kg_bin kvmgrid-wall)
kg_prod_setup prod agent:hv01 wall:lobby load:vm-7 operator:alice
kg_prod_start
CA="$KG_PROD_DIR/etc/tls/ca.crt"
URI="ssl://localhost:$KG_PROD_TLS_PORT"
cred() { echo "$KG_PROD_DIR/etc/credentials/$1.pass"; }

"$MOSQUITTO_SUB" -h localhost -p "$KG_PROD_TLS_PORT" --cafile "$CA" -u wall@lobby \
    -P "$(kg_prod_password wall@lobby)" -q 1 -t 'kvmgrid/#' -v > "$KG_TMP/wall.out" 2>"$KG_TMP/wall.log" &
KG_PIDS="$KG_PIDS $!"
seen() { grep -q -- "$1" "$KG_TMP/wall.out"; }

kg_spawn agent "$AGENT" --libvirt-uri test:///default --broker "$URI" --ca-file "$CA" \
    --username hv01 --password-file "$(cred hv01)" --host hv01 --interval 1s --proc-root ""
AGENT_PID=$KG_LAST_PID
kg_wait_for 20 seen '^kvmgrid/hv01/status online$' && kg_pass "agent hv01 online over TLS with its credentials" ||
    kg_fail "agent hv01's status never reached the wall"
kg_wait_for 20 seen '^kvmgrid/hv01/metrics {' && kg_pass "agent hv01's host metrics reach the wall" ||
    kg_fail "agent hv01's metrics never reached the wall"
kg_wait_for 20 seen '^kvmgrid/hv01/vm/test {' && kg_pass "agent hv01's VM 'test' reaches the wall" ||
    kg_fail "agent hv01's VM never reached the wall"

# The same credentials with another host name: refused by the ACL (silently, 3.1.1).
kg_spawn agent-wrong "$AGENT" --libvirt-uri test:///default --broker "$URI" --ca-file "$CA" \
    --username hv01 --password-file "$(cred hv01)" --host hv99 --interval 1s --proc-root ""
WRONG_PID=$KG_LAST_PID

kg_spawn load "$LOAD" --listen --broker "$URI" --ca-file "$CA" --username load@vm-7 \
    --password-file "$(cred load@vm-7)" --node vm-7 --max-workers 1 --max-pct 50 --max-duration 30s --default-duration 20s
LOAD_PID=$KG_LAST_PID
kg_wait_for 20 seen '^kvmgrid/vm-7/load/state {' && kg_pass "load generator vm-7 publishes its state" ||
    kg_fail "load generator vm-7's state never reached the wall"

# (--password: kvmgrid-load --send does not read password_file yet, only --listen does.)
"$LOAD" --send vm-7 '{"schema":1,"cmd":"start","kind":"cpu","pct":10,"duration_s":20,"id":"ops-1"}' \
    --broker "$URI" --ca-file "$CA" --username operator@alice --password "$(kg_prod_password operator@alice)" \
    >"$KG_TMP/send.log" 2>&1
kg_assert_eq "operator's kvmgrid-load --send exits 0" 0 "$?"
kg_wait_for 20 seen '^kvmgrid/vm-7/load/state .*"status":"running".*"ops-1"' &&
    kg_pass "the operator's command ran on vm-7" || kg_fail "vm-7 never reported running ops-1"

# The wall's user cannot command it (refused by the broker, so vm-7 never runs ops-2).
"$LOAD" --send vm-7 '{"schema":1,"cmd":"stop","id":"ops-2"}' --broker "$URI" --ca-file "$CA" \
    --username wall@lobby --password "$(kg_prod_password wall@lobby)" >"$KG_TMP/send2.log" 2>&1

# kvmgrid-wall itself, headless, over TLS with wall@lobby's password file: the picture
# holds hv01's VM. In operator mode (which a wall user should not be given) its stop
# command to VM "test" goes out and the broker drops it.
SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0 \
    "$WALL" --broker "$URI" --ca-file "$CA" --username wall@lobby --password-file "$(cred wall@lobby)" \
    --size 640x480 --screenshot "$KG_TMP/kvmgrid-wall.png" --dump-layout "$KG_TMP/kvmgrid-wall-layout.txt" \
    >"$KG_TMP/kvmgrid-wall.log" 2>&1
kg_assert_eq "kvmgrid-wall over TLS as wall@lobby (password_file): exit 0" 0 "$?"
kg_assert_contains "kvmgrid-wall shows hv01's VM 'test'" "$(cat "$KG_TMP/kvmgrid-wall-layout.txt" 2>/dev/null)" "tile hv01 test "
kg_assert_not_contains "kvmgrid-wall does not log the password" "$(cat "$KG_TMP/kvmgrid-wall.log")" "$(kg_prod_password wall@lobby)"
SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0 \
    "$WALL" --broker "$URI" --ca-file "$CA" --username wall@lobby --password-file "$(cred wall@lobby)" \
    --operator --operator-send stop:test --size 640x480 --screenshot "$KG_TMP/kvmgrid-wall-op.png" \
    >"$KG_TMP/kvmgrid-wall-op.log" 2>&1
kg_assert_eq "kvmgrid-wall as wall@lobby in operator mode: runs (exit 0)" 0 "$?"

# The wall's refused send finished before this command was published, so once
# the wall sees it, ops-2 would have been delivered already had it got through.
kg_prod_pub operator@alice kvmgrid/vm-7/load/cmd '{"schema":1,"cmd":"status","id":"sync-1"}' >/dev/null
kg_wait_for 20 seen '^kvmgrid/vm-7/load/cmd .*"sync-1"' || kg_fail "the operator's sync command never reached the wall"
kg_assert_eq "nothing from the agent that claims another host" "" "$(grep '^kvmgrid/hv99/' "$KG_TMP/wall.out")"
kg_assert_eq "the wall's stop command did not reach vm-7" "" "$(grep 'ops-2' "$KG_TMP/wall.out")"
kg_assert_eq "kvmgrid-wall as wall@lobby published nothing" "" "$(grep '^kvmgrid/test/load/cmd' "$KG_TMP/wall.out")"
kill -0 "$WRONG_PID" 2>/dev/null && kg_pass "the refused agent keeps running (no crash, no reconnect storm needed)" ||
    kg_log "note: the refused agent exited"

kg_stop "$LOAD_PID"; kg_stop "$AGENT_PID"; kg_stop "$WRONG_PID"
kg_assert_eq "agent hv01 stops cleanly" 0 "$KG_EXIT_STATUS"
kg_wait_for 10 seen '^kvmgrid/hv01/status offline$' && kg_pass "agent hv01 published offline on the way out" ||
    kg_fail "no offline status from hv01"
kg_stop "$KG_PROD_PID"

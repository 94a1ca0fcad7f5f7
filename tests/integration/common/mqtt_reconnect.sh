#!/bin/sh
# SPDX-License-Identifier: MIT
# The broker stops and restarts on the same port: the session notices, reconnects
# with backoff, republishes its state (on_connect), keeps publishing, and renews
# its subscription so that a command sent after the restart reaches it.
. "${KG_SOURCE_DIR:=$(cd "$(dirname "$0")/../../.." && pwd)}/tests/integration/lib.sh" || exit 1
TOOL=$(kg_bin kg-mqtt-tool)
kg_broker_start

kg_spawn run "$TOOL" run "$KG_BROKER_URI" kgtest/h1 --sub 'kgtest/h1/cmd/#' --debug \
    --will kgtest/h1/status offline --will-retain
RUN=$KG_LAST_PID
kg_wait_for 10 grep -q "event connected reconnect=0" "$KG_TMP/run.log" || kg_die "no first connect"
kg_pub kgtest/h1/cmd/x before
kg_wait_for 10 grep -q "^kgtest/h1/cmd/x before" "$KG_TMP/run.log" || kg_fail "command before restart lost"

kg_broker_stop
kg_wait_for 10 grep -q "event lost" "$KG_TMP/run.log" || kg_fail "loss not reported"
kg_broker_start   # same port (KG_PORT is kept)
kg_wait_for 20 grep -q "event connected reconnect=1" "$KG_TMP/run.log" || kg_die "no reconnect"
kg_pass "reconnected after the broker restart"
kg_assert_contains "recovery logged once" "$(cat "$KG_TMP/run.log")" "connected to $KG_BROKER_URI again"

# Publishing goes on: ticks published after the restart reach a new subscriber.
"$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t kgtest/h1/tick -C 3 -W 10 >"$KG_TMP/ticks.txt" 2>&1
kg_assert_eq "3 ticks after the restart" 3 "$(grep -c '^[0-9]' "$KG_TMP/ticks.txt")"
# State republished from on_connect (the restarted broker had no retained store).
kg_assert_eq "status republished online" "kgtest/h1/status online" "$(kg_retained kgtest/h1/status)"
# A message published while disconnected (from on_lost) was buffered and sent.
kg_assert_eq "message published during the outage delivered" "kgtest/h1/lost 1" \
    "$(kg_retained kgtest/h1/lost)"
# Subscription renewed: a command from an outside client arrives.
kg_pub kgtest/h1/cmd/y after
if kg_wait_for 10 grep -q "^kgtest/h1/cmd/y after" "$KG_TMP/run.log"; then
    kg_pass "subscription renewed after reconnect"
else kg_fail "command after restart not received"; fi

# A second outage, longer than one backoff step, is survived too.
before=$(grep -c 'debug: mqtt: connecting to' "$KG_TMP/run.log")
kg_broker_stop
kg_wait_for 10 sh -c "[ \$(grep -c 'event lost' '$KG_TMP/run.log') -ge 2 ]" || kg_fail "second loss"
# Several attempts fail while the broker is down (each one logged at debug level),
# but the failure itself is logged once, not once per attempt.
attempts() { [ "$(grep -c 'debug: mqtt: connecting to' "$KG_TMP/run.log")" -ge $(( before + 3 )) ]; }
kg_wait_for 15 attempts || kg_fail "no repeated connect attempts while the broker is down"
kg_assert_eq "failed attempts not logged one by one" 0 "$(grep -c 'cannot connect' "$KG_TMP/run.log")"
kg_broker_start
kg_wait_for 20 sh -c "[ \$(grep -c 'event connected reconnect=1' '$KG_TMP/run.log') -ge 2 ]" \
    || kg_fail "no second reconnect"
kg_pub kgtest/h1/cmd/z again
kg_wait_for 10 grep -q "^kgtest/h1/cmd/z again" "$KG_TMP/run.log" || kg_fail "second renewal"
kg_stop "$RUN"
kg_assert_eq "session exits 0" 0 "$KG_EXIT_STATUS"
kg_assert_contains "stats count the losses" "$(cat "$KG_TMP/run.log")" "lost=2"

#!/bin/sh
# SPDX-License-Identifier: MIT
# Messages that an outside client (mosquitto_pub) publishes reach the session's
# subscription: exact filters, '+' and '#' wildcards, retained messages that were
# stored before the session subscribed, and payloads byte for byte.
. "${KG_SOURCE_DIR:=$(cd "$(dirname "$0")/../../.." && pwd)}/tests/integration/lib.sh" || exit 1
TOOL=$(kg_bin kg-mqtt-tool)
kg_broker_start

kg_pub kgtest/h1/status online -r   # stored before the session subscribes
kg_spawn sub "$TOOL" sub "$KG_BROKER_URI" 'kgtest/+/status' --count 3 --timeout 30
SUB=$KG_LAST_PID
kg_wait_for 10 grep -q "event connected" "$KG_TMP/sub.log" || kg_die "session did not connect"
kg_pub kgtest/h2/status offline
kg_pub kgtest/h2/metrics ignored      # does not match the filter
kg_pub kgtest/h3/status 'two words ü'
kg_wait_for 10 sh -c "! kill -0 $SUB 2>/dev/null"
kg_stop "$SUB"
kg_assert_eq "sub exits 0 after 3 messages" 0 "$KG_EXIT_STATUS"
out=$(grep '^kgtest/' "$KG_TMP/sub.log")
kg_assert_eq "messages in order, filter applied" \
"kgtest/h1/status online
kgtest/h2/status offline
kgtest/h3/status two words ü" "$out"
kg_assert_contains "retained flag on the stored message" "$(cat "$KG_TMP/sub.log")" \
    "event message kgtest/h1/status retained=1"
kg_assert_contains "live message not flagged retained" "$(cat "$KG_TMP/sub.log")" \
    "event message kgtest/h2/status retained=0"

# '#' filter and several filters in one session (run mode: --sub is repeatable).
kg_spawn run "$TOOL" run "$KG_BROKER_URI" kgtest/runner --sub 'kgtest/cmd/#' --sub kgtest/exact
RUN=$KG_LAST_PID
kg_wait_for 10 grep -q "event connected" "$KG_TMP/run.log" || kg_die "runner did not connect"
kg_pub kgtest/cmd/a/b deep
kg_pub kgtest/exact one
kg_pub kgtest/other nope
kg_wait_for 10 grep -q "^kgtest/exact one" "$KG_TMP/run.log"
kg_assert_contains "# filter matches deep topics" "$(cat "$KG_TMP/run.log")" "kgtest/cmd/a/b deep"
kg_assert_contains "exact filter matches" "$(cat "$KG_TMP/run.log")" "kgtest/exact one"
kg_assert_not_contains "other topics not delivered" "$(cat "$KG_TMP/run.log")" "kgtest/other"
kg_stop "$RUN"
kg_assert_eq "runner exits 0 on SIGTERM" 0 "$KG_EXIT_STATUS"

# Timeout is reported, not hung: no message arrives on this filter.
"$TOOL" sub "$KG_BROKER_URI" kgtest/never --count 1 --timeout 1 >"$KG_TMP/never.log" 2>&1
kg_assert_eq "sub without messages exits 1" 1 $?
kg_assert_contains "timeout reported" "$(cat "$KG_TMP/never.log")" "event timeout received=0"

#!/bin/sh
# SPDX-License-Identifier: MIT
# The broker is not up yet when the session starts (Paho's automaticReconnect does
# not retry a failed first connect): the session keeps trying with backoff, logs
# the failure once (rate-limited), and connects when the broker appears. Messages
# published before that are buffered and delivered.
. "${KG_SOURCE_DIR:=$(cd "$(dirname "$0")/../../.." && pwd)}/tests/integration/lib.sh" || exit 1
TOOL=$(kg_bin kg-mqtt-tool)
KG_PORT=$(kg_free_port)
URI="tcp://127.0.0.1:$KG_PORT"

kg_spawn run "$TOOL" run "$URI" kgtest/h1 --sub kgtest/h1/cmd
RUN=$KG_LAST_PID
kg_spawn early "$TOOL" pub "$URI" kgtest/early buffered --retain --timeout 30
EARLY=$KG_LAST_PID
kg_wait_for 10 grep -q "cannot connect" "$KG_TMP/run.log" || kg_fail "failed connect not logged"
kg_assert_not_contains "not connected yet" "$(cat "$KG_TMP/run.log")" "event connected"

kg_broker_start
kg_wait_for 20 grep -q "event connected reconnect=0" "$KG_TMP/run.log" || kg_die "never connected"
kg_pass "first connect after the broker came up"
kg_assert_contains "recovery logged" "$(cat "$KG_TMP/run.log")" "connected to $URI as"
lines=$(grep -c "cannot connect" "$KG_TMP/run.log")
kg_assert_eq "repeated failures rate-limited to one line" 1 "$lines"
kg_wait_for 20 sh -c "! kill -0 $EARLY 2>/dev/null"
kg_stop "$EARLY"
kg_assert_eq "publisher started before the broker exits 0" 0 "$KG_EXIT_STATUS"
kg_assert_eq "buffered message delivered" "kgtest/early buffered" "$(kg_retained kgtest/early)"
kg_pub kgtest/h1/cmd hi
kg_wait_for 10 grep -q "^kgtest/h1/cmd hi" "$KG_TMP/run.log" || kg_fail "subscription after late connect"
kg_stop "$RUN"
kg_assert_eq "session exits 0" 0 "$KG_EXIT_STATUS"

#!/bin/sh
# SPDX-License-Identifier: MIT
# A clean stop publishes the final retained state itself, waits for it, then
# disconnects cleanly, so the broker does NOT deliver the will as well. The will
# payload differs from the final one here so that the two can be told apart.
. "${KG_SOURCE_DIR:=$(cd "$(dirname "$0")/../../.." && pwd)}/tests/integration/lib.sh" || exit 1
TOOL=$(kg_bin kg-mqtt-tool)
kg_broker_start

kg_spawn watch "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t 'kgtest/#' -v
WATCH=$KG_LAST_PID
probe() { kg_pub kgtest/probe x; grep -q probe "$KG_TMP/watch.log"; }
kg_wait_for 10 probe || kg_die "watcher did not subscribe"

kg_spawn run "$TOOL" run "$KG_BROKER_URI" kgtest/h1 --id kgtest-h1 --will kgtest/h1/status will-offline \
    --will-retain --final kgtest/h1/status offline
RUN=$KG_LAST_PID
kg_wait_for 10 grep -q "kgtest/h1/status online" "$KG_TMP/watch.log" || kg_die "never online"
kg_wait_for 10 grep -q "kgtest/h1/tick" "$KG_TMP/watch.log" || kg_die "no ticks"
kg_stop "$RUN" TERM
kg_assert_eq "session exits 0 on SIGTERM" 0 "$KG_EXIT_STATUS"
kg_assert_contains "stop reported success" "$(cat "$KG_TMP/run.log")" "event stopped"
kg_assert_eq "final retained state" "kgtest/h1/status offline" "$(kg_retained kgtest/h1/status)"
# Give a (wrong) will every chance to arrive: the broker publishes it at once on
# an unclean close, so a probe published after it would come after it too.
kg_pub kgtest/probe2 x
kg_wait_for 10 grep -q probe2 "$KG_TMP/watch.log"
kg_assert_contains "live subscriber saw the final offline" "$(cat "$KG_TMP/watch.log")" \
    "kgtest/h1/status offline"
kg_assert_not_contains "will not delivered on a clean stop" "$(cat "$KG_TMP/watch.log")" "will-offline"
kg_assert_contains "broker saw a clean disconnect" "$(cat "$KG_TMP/mosquitto.log")" \
    "Client kgtest-h1 disconnected."

# Stop is idempotent and works without a connection: a session whose broker is
# gone exits promptly (bounded by its timeout), it does not hang.
kg_spawn run2 "$TOOL" run tcp://127.0.0.1:1 kgtest/h2 --final kgtest/h2/status offline
RUN2=$KG_LAST_PID
kg_wait_for 10 grep -q "cannot connect" "$KG_TMP/run2.log" || kg_fail "no connect failure logged"
t0=$(date +%s)
kg_stop "$RUN2" TERM
kg_assert_eq "unconnected session exits 0 on SIGTERM" 0 "$KG_EXIT_STATUS"
kg_assert_eq "it exits within 3 s" 1 "$(( $(date +%s) - t0 <= 3 ))"
kg_stop "$WATCH"

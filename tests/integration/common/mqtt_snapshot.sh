#!/bin/sh
# SPDX-License-Identifier: MIT
# The session's snapshot filter: at every connect the retained messages under it
# arrive (retained=1), all of them before "synced" (the UNSUBACK that follows
# them), and live messages under it stop once it is unsubscribed, while the
# ordinary subscriptions go on. A reconnect to a broker that lost its store
# reads the new, smaller snapshot and says synced again. A second snapshot
# filter (the agent reads its VM topics and its Home Assistant configs) is read
# and unsubscribed with the first.
#
#   mqtt_snapshot.sh [DELIVER_BYTES]: the same through the session's delivery
#   thread (kg_mqtt_options.deliver_bytes) with a ring of that many bytes; a
#   small one (4096) makes Paho's thread wait for room, records wrap around,
#   and the 3,000-byte message take a copy of its own.
. "${KG_SOURCE_DIR:=$(cd "$(dirname "$0")/../../.." && pwd)}/tests/integration/lib.sh" || exit 1
TOOL=$(kg_bin kg-mqtt-tool)
kg_broker_start

DELIVER=${1:+--deliver-bytes $1}
# 3 named retained topics, a big one and 500 more
for v in a b c; do kg_pub "kgtest/s/$v" "$v" -r -q 1; done
BIG=$(python3 -c 'print("b" * 3000)')
kg_pub kgtest/s/big "$BIG" -r -q 1
kg_pub kgtest/t/other t -r -q 1
"$TOOL" pub "$KG_BROKER_URI" kgtest/s/n m --count 500 --spread --retain >"$KG_TMP/pub.log" 2>&1 ||
    kg_die "could not publish 500 retained messages: $(tail -3 "$KG_TMP/pub.log")"

kg_spawn tool "$TOOL" run "$KG_BROKER_URI" kgtest/r --interval-ms 1000 --sub kgtest/ctl \
    --snapshot 'kgtest/s/#' --snapshot 'kgtest/t/#' --reconnect-min-ms 3000 --reconnect-max-ms 3000 $DELIVER
TP=$KG_LAST_PID
synced() { [ "$(grep -c '^event synced' "$KG_TMP/tool.log")" -ge "$1" ]; }
kg_wait_for 20 synced 1 || kg_die "never synced: $(tail -5 "$KG_TMP/tool.log")"
before=$(sed -n '1,/^event synced/p' "$KG_TMP/tool.log" | grep -c '^event message kgtest/s/.* retained=1')
kg_assert_eq "all 504 retained messages arrived before synced" 504 "$before"
kg_assert_eq "the big one intact" "kgtest/s/big $BIG" "$(grep '^kgtest/s/big ' "$KG_TMP/tool.log")"
kg_assert_eq "every numbered payload intact" 500 \
    "$(awk '$1 == "kgtest/s/n/" $3 && $2 == "m"' "$KG_TMP/tool.log" | sort -u | wc -l)"
kg_assert_eq "the second snapshot filter's message arrived before synced" 1 \
    "$(sed -n '1,/^event synced/p' "$KG_TMP/tool.log" | grep -c '^event message kgtest/t/other retained=1')"
kg_assert_eq "no snapshot message after synced" 0 \
    "$(sed '1,/^event synced/d' "$KG_TMP/tool.log" | grep -c '^event message kgtest/s/')"

# after synced the snapshot filter is unsubscribed; the ordinary one still works
kg_pub kgtest/s/live x -q 1
kg_pub kgtest/t/live x -q 1
kg_pub kgtest/ctl go -q 1
kg_wait_for 10 grep -q '^event message kgtest/ctl' "$KG_TMP/tool.log" ||
    kg_fail "the ordinary subscription stopped too"
kg_assert_eq "live message under the snapshot filter not delivered" 0 \
    "$(grep -c 'kgtest/s/live' "$KG_TMP/tool.log")"
kg_assert_eq "live message under the second snapshot filter not delivered" 0 \
    "$(grep -c 'kgtest/t/live' "$KG_TMP/tool.log")"

# the broker restarts without its store; one retained message is back before the
# session reconnects (its retries are 3 s apart): the second snapshot holds it alone
kg_broker_stop
kg_wait_for 10 grep -q '^event lost' "$KG_TMP/tool.log" || kg_fail "the lost connection was not said"
kg_broker_start
kg_pub kgtest/s/again y -r -q 1
kg_wait_for 30 synced 2 || kg_die "never synced after the reconnect: $(tail -5 "$KG_TMP/tool.log")"
second=$(awk '/^event synced/ { n++; next } n == 1 && /^event message kgtest\/s\// { print $3 }' "$KG_TMP/tool.log")
kg_assert_eq "second snapshot: only what the broker holds now" "kgtest/s/again" "$second"
kg_stop "$TP"

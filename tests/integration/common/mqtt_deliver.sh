#!/bin/sh
# SPDX-License-Identifier: MIT
# The session's delivery thread (kg_mqtt_options.deliver_bytes) with a ring far
# smaller than the retained state, so that Paho's thread waits for room, records
# wrap around, and a message too big for the ring takes its own copy: every
# retained message arrives, intact and before "synced", then live messages, and
# a lost connection is said; after the reconnect the snapshot is read again.
. "${KG_SOURCE_DIR:=$(cd "$(dirname "$0")/../../.." && pwd)}/tests/integration/lib.sh" || exit 1
TOOL=$(kg_bin kg-mqtt-tool)
kg_broker_start

"$TOOL" pub "$KG_BROKER_URI" kgtest/s/n m --count 500 --spread --retain >"$KG_TMP/pub.log" 2>&1 ||
    kg_die "could not publish 500 retained messages: $(tail -3 "$KG_TMP/pub.log")"
BIG=$(python3 -c 'print("b" * 3000)')
kg_pub kgtest/s/big "$BIG" -r -q 1

kg_spawn tool "$TOOL" run "$KG_BROKER_URI" kgtest/r --interval-ms 1000 --sub kgtest/ctl \
    --snapshot 'kgtest/s/#' --deliver-bytes 4096 --reconnect-min-ms 3000 --reconnect-max-ms 3000
TP=$KG_LAST_PID
synced() { [ "$(grep -c '^event synced' "$KG_TMP/tool.log")" -ge "$1" ]; }
kg_wait_for 20 synced 1 || kg_die "never synced: $(tail -5 "$KG_TMP/tool.log")"
before=$(sed -n '1,/^event synced/p' "$KG_TMP/tool.log" | grep -c '^event message kgtest/s/.* retained=1')
kg_assert_eq "all 501 retained messages arrived before synced" 501 "$before"
kg_assert_eq "the big one intact" "kgtest/s/big $BIG" "$(grep '^kgtest/s/big ' "$KG_TMP/tool.log")"
kg_assert_eq "every spread payload intact" 500 \
    "$(awk '$1 ~ /^kgtest\/s\/n\// && $1 == "kgtest/s/n/" $3 && $2 == "m"' "$KG_TMP/tool.log" | sort -u | wc -l)"

kg_pub kgtest/ctl go -q 1
kg_wait_for 10 grep -q '^event message kgtest/ctl' "$KG_TMP/tool.log" ||
    kg_fail "a live message did not arrive"

kg_broker_stop
kg_wait_for 10 grep -q '^event lost' "$KG_TMP/tool.log" || kg_fail "the lost connection was not said"
# the retained message is back before the session reconnects (retries 3 s apart)
kg_broker_start
kg_pub kgtest/s/again y -r -q 1
kg_wait_for 30 synced 2 || kg_die "never synced after the reconnect: $(tail -5 "$KG_TMP/tool.log")"
second=$(awk '/^event synced/ { n++; next } n == 1 && /^event message kgtest\/s\// { print $3 }' "$KG_TMP/tool.log")
kg_assert_eq "second snapshot: only what the broker holds now" "kgtest/s/again" "$second"
kg_stop "$TP"

#!/bin/sh
# SPDX-License-Identifier: MIT
# The session publishes retained messages that an outside client (mosquitto_sub)
# finds in the broker's store; a burst larger than the session's window arrives
# whole when its messages go to different topics, and as the newest value when
# they go to one; an empty retained publish removes the message.
. "${KG_SOURCE_DIR:=$(cd "$(dirname "$0")/../../.." && pwd)}/tests/integration/lib.sh" || exit 1
TOOL=$(kg_bin kg-mqtt-tool)
kg_broker_start

"$TOOL" pub "$KG_BROKER_URI" kgtest/host1/status online --retain >"$KG_TMP/pub1.log" 2>&1
kg_assert_eq "pub exits 0" 0 $?
kg_assert_contains "pub reports delivery" "$(cat "$KG_TMP/pub1.log")" "event published 1"
kg_assert_eq "retained message in the broker" "kgtest/host1/status online" "$(kg_retained 'kgtest/#')"

# Retained payloads are kept byte for byte (spaces, UTF-8, JSON).
payload='{"cpu_pct": 12.5, "name": "vm-ü ✓"}'
"$TOOL" pub "$KG_BROKER_URI" kgtest/host1/metrics "$payload" --retain >"$KG_TMP/pub2.log" 2>&1
kg_assert_eq "pub json exits 0" 0 $?
kg_assert_contains "json payload retained as is" "$(kg_retained 'kgtest/host1/metrics')" "$payload"

# A burst of 2000 QoS 1 messages to 2000 topics (twice the session's window of
# 1000, 20x Paho's default buffer): every one arrives, in order, none refused.
kg_spawn burst-sub "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t 'kgtest/b/#' -v
SUB=$KG_LAST_PID
probe() { kg_pub kgtest/b/probe x; grep -q probe "$KG_TMP/burst-sub.log"; }
kg_wait_for 10 probe || kg_die "mosquitto_sub did not subscribe"
"$TOOL" pub "$KG_BROKER_URI" kgtest/b/data m --count 2000 --spread >"$KG_TMP/pub3.log" 2>&1
kg_assert_eq "burst pub exits 0" 0 $?
kg_assert_contains "no publish refused" "$(cat "$KG_TMP/pub3.log")" "failed=0"
count_data() { [ "$(grep -c '^kgtest/b/data/' "$KG_TMP/burst-sub.log")" -ge 2000 ]; }
kg_wait_for 20 count_data
grep '^kgtest/b/data/' "$KG_TMP/burst-sub.log" >"$KG_TMP/burst.txt"
kg_assert_eq "all 2000 burst messages arrived" 2000 "$(wc -l <"$KG_TMP/burst.txt")"
kg_assert_eq "first in order" "kgtest/b/data/0 m 0" "$(head -n1 "$KG_TMP/burst.txt")"
kg_assert_eq "last in order" "kgtest/b/data/1999 m 1999" "$(tail -n1 "$KG_TMP/burst.txt")"
kg_assert_eq "each exactly once" 2000 "$(sort -u "$KG_TMP/burst.txt" | wc -l)"

# The same burst to one topic: the first 1000 fill the window, the rest wait as
# one message that each newer one replaces; what arrives is in order and ends
# with the newest value (latest value per topic, as retained state is).
"$TOOL" pub "$KG_BROKER_URI" kgtest/b/one m --count 2000 >"$KG_TMP/pub5.log" 2>&1
kg_assert_eq "one-topic burst exits 0" 0 $?
last_one() { grep '^kgtest/b/one ' "$KG_TMP/burst-sub.log" | tail -n1 | grep -q 'm 1999$'; }
kg_wait_for 20 last_one && kg_pass "the newest value arrived last" || kg_fail "m 1999 never arrived last"
grep '^kgtest/b/one ' "$KG_TMP/burst-sub.log" | awk '{print $3}' >"$KG_TMP/one.txt"
n=$(wc -l <"$KG_TMP/one.txt")
if [ "$n" -ge 1001 ] && [ "$n" -le 2000 ]; then kg_pass "$n of 2000 arrived (older waiting ones replaced)"; else kg_fail "$n of 2000 arrived"; fi
kg_assert_eq "in order, none twice" "" "$(awk 'NR > 1 && $1 <= prev {print "out of order at " NR} {prev = $1}' "$KG_TMP/one.txt")"
kg_stop "$SUB"

# Empty retained message deletes it.
"$TOOL" pub "$KG_BROKER_URI" kgtest/host1/status "" --retain >"$KG_TMP/pub4.log" 2>&1
kg_assert_eq "empty pub exits 0" 0 $?
kg_assert_eq "retained status removed" "" "$(kg_retained 'kgtest/host1/status')"

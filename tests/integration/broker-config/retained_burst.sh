#!/bin/sh
# SPDX-License-Identifier: MIT
# dev.conf and production.conf's limits let a fresh subscriber receive a whole
# 100,000-message retained burst, at QoS 0 and QoS 1 (what a wall gets when it
# connects to a big grid). Runs bench/broker/retained-burst.sh and checks its
# RESULT lines; the defaults' figure is logged, not asserted (it is Mosquitto's
# behaviour, recorded in docs/BENCHMARKS.md).
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

out=$(KG_SOURCE_DIR="$KG_SOURCE_DIR" TMPDIR="$KG_TMP" sh "$KG_SOURCE_DIR/bench/broker/retained-burst.sh" 100000 2>"$KG_TMP/bench.log")
rc=$?
printf '%s\n' "$out" > "$KG_TMP/bench.out.log"
kg_assert_eq "retained-burst.sh ran" 0 "$rc"
for cfg in dev prod; do
    for q in 0 1; do
        line=$(printf '%s\n' "$out" | grep "^RESULT config=$cfg qos=$q ")
        kg_assert_contains "$cfg, QoS $q subscriber got the whole burst" "$line" "received=100000 of=100000"
    done
done
kg_log "mosquitto defaults: $(printf '%s\n' "$out" | grep '^RESULT config=defaults' | tr '\n' ';')"

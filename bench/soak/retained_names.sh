#!/bin/sh
# SPDX-License-Identifier: MIT
# What a broker keeps of topics whose retained message was deleted: ROUNDS times,
# COUNT retained messages are published and then deleted (empty retained), on
# fresh topic names each round ("fresh") and on the same names every round
# ("same"); mosquitto's RSS after each round. VM churn gives the broker new names
# the same way (bench/soak/run.sh): a broker that keeps something per name grows
# in the "fresh" column only. Prints figures; never fails on them.
#   bench/soak/retained_names.sh [COUNT] [ROUNDS]        (defaults: 10000 8)
set -u
KG_SOURCE_DIR=${KG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
COUNT=${1:-10000}
ROUNDS=${2:-8}
PUB="$KG_SOURCE_DIR/bench/broker/mqtt_burst_pub.py"
rss_mib() { kg_rss_kib "$KG_BROKER_PID" | awk '{ printf "%.1f", $1 / 1024 }'; }

# rounds KIND: one line of RSS figures, one per round
rounds() {
    kg_broker_start
    line="$(rss_mib) |"
    i=1
    while [ "$i" -le "$ROUNDS" ]; do
        p=same
        [ "$1" = fresh ] && p=round$i
        python3 "$PUB" --port "$KG_PORT" --count "$COUNT" --hosts 10 --prefix "$p" 2>/dev/null &&
            python3 "$PUB" --port "$KG_PORT" --count "$COUNT" --hosts 10 --prefix "$p" --empty 2>/dev/null ||
            kg_die "publishing to the broker failed"
        line="$line $(rss_mib)"
        i=$((i + 1))
    done
    printf '%-6s %s\n' "$1" "$line"
    kg_broker_stop
    KG_PORT=""
}

echo "mosquitto RSS MiB: at start | after each round of $COUNT retained messages set and deleted"
rounds fresh
rounds same

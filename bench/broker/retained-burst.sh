#!/bin/sh
# SPDX-License-Identifier: MIT
# Does a new subscriber get ALL of a big retained burst? Measures it on a real
# mosquitto with its defaults, with broker-config/dev.conf and with the limits
# (max_* lines) of production.conf.in, side by side.
#
#   bench/broker/retained-burst.sh [COUNT]     (default 100000)
#
# For each configuration: a private mosquitto on a free loopback port; COUNT
# retained 400-byte messages published on kvmgrid/host-NNN/vm/vm-NNNNN by
# mqtt_burst_pub.py (one connection, QoS 0, confirmed by a PINGRESP); then a
# fresh `mosquitto_sub -t 'kvmgrid/#' --retained-only` at QoS 0 and at QoS 1
# counts what it receives (until COUNT arrived or nothing more came for 5 s),
# and $SYS/broker/publish/messages/dropped says what the broker threw away
# (sys_interval is set to 1 s in both configurations for that; nothing else differs
# from the configuration named).
# Prints a table and one machine-readable "RESULT ..." line per run.
# Environment: MOSQUITTO, MOSQUITTO_SUB (defaults from PATH).
KG_SOURCE_DIR=${KG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

COUNT=${1:-100000}
case "$COUNT" in ''|*[!0-9]*) echo "usage: $0 [COUNT]" >&2; exit 2 ;; esac
PUB="$KG_SOURCE_DIR/bench/broker/mqtt_burst_pub.py"

# count_burst OUT QOS: runs a fresh subscriber; prints "received seconds".
count_burst() {
    : > "$1"
    t0=$(date +%s.%N)
    "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -q "$2" -t 'kvmgrid/#' --retained-only \
        -C "$COUNT" -W 120 > "$1" 2>/dev/null &
    sp=$!
    last=-1; tlast=$t0; still=0; why=stalled
    while :; do
        n=$(wc -l < "$1")
        if [ "$n" -ne "$last" ]; then last=$n; tlast=$(date +%s.%N); still=0
        else still=$((still + 1)); fi
        [ "$n" -ge "$COUNT" ] && { why=all; break; }
        kill -0 "$sp" 2>/dev/null || { why=exited; break; }
        [ "$still" -ge 50 ] && break          # nothing new for 5 s
        sleep 0.1
    done
    kill "$sp" 2>/dev/null; wait "$sp" 2>/dev/null
    [ "$why" = exited ] && last=$(wc -l < "$1")   # what it wrote before exiting
    echo "$last $(awk "BEGIN { printf \"%.2f\", $tlast - $t0 }") $why"
}

dropped() { # the $SYS counter is republished every second (sys_interval 1 below)
    sleep 1.5
    "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t '$SYS/broker/publish/messages/dropped' -C 1 -W 15 2>/dev/null
}

run() { # NAME CONF_LINES_FILE
    name=$1
    KG_PORT=$(kg_free_port)
    conf="$KG_TMP/$name.conf"
    { echo "listener $KG_PORT 127.0.0.1"; echo "sys_interval 1"; cat "$2"; } > "$conf"
    kg_mosquitto_start "broker-$name" "$conf" "$KG_PORT" || kg_die "mosquitto ($name) did not start"
    bpid=$KG_LAST_PID
    python3 "$PUB" --port "$KG_PORT" --count "$COUNT" 2>>"$KG_TMP/pub.log" || kg_die "publishing failed"
    for q in 0 1; do
        set -- $(count_burst "$KG_TMP/$name-q$q.out" "$q")
        eval "r_${name}_$q=$1 s_${name}_$q=$2"
        echo "RESULT config=$name qos=$q received=$1 of=$COUNT secs=$2 end=$3"
    done
    eval "d_$name=\$(dropped)"
    kg_stop "$bpid"
}

printf 'allow_anonymous true\n' > "$KG_TMP/defaults.lines"
grep -v '^[[:space:]]*listener' "$KG_SOURCE_DIR/broker-config/dev.conf" > "$KG_TMP/dev.lines"
# production.conf's limits (max_* lines) alone, on a plain anonymous listener.
{ echo "allow_anonymous true"; grep '^max_' "$KG_SOURCE_DIR/broker-config/production.conf.in"; } > "$KG_TMP/prod.lines"
run defaults "$KG_TMP/defaults.lines"
run dev "$KG_TMP/dev.lines"
run prod "$KG_TMP/prod.lines"

echo
echo "Retained burst: $COUNT retained messages of 400 B, then a fresh subscriber to kvmgrid/#"
echo "($("$MOSQUITTO" -h 2>/dev/null | head -n 1), $(nproc) CPUs)"
f='%-38s %19s %17s %20s\n'
printf "$f" "" "mosquitto defaults" "dev.conf" "production limits"
printf "$f" "subscriber QoS 0: received (time)" "$r_defaults_0 (${s_defaults_0} s)" "$r_dev_0 (${s_dev_0} s)" "$r_prod_0 (${s_prod_0} s)"
printf "$f" "subscriber QoS 1: received (time)" "$r_defaults_1 (${s_defaults_1} s)" "$r_dev_1 (${s_dev_1} s)" "$r_prod_1 (${s_prod_1} s)"
printf "$f" '$SYS/broker/publish/messages/dropped' "$d_defaults" "$d_dev" "$d_prod"

#!/bin/sh
# SPDX-License-Identifier: MIT
# kvmgrid-agent vs collectd (virt + mqtt plugins) on the same libvirt test-driver
# node, same 1 s interval, each against its own private mosquitto: CPU time per
# cycle, peak RSS, and messages and bytes per cycle on the wire. Prints figures;
# never fails on time.
#   bench/agent/run.sh [SECONDS] [SIZES...]      (defaults: 20 s; 10 100 1000)
# Needs a built kvmgrid-agent and kg-bench-lv-baseline (KG_BUILD_DIR, default
# ./build) and collectd-core.
#
# CPU: user+system time of all the process's threads over the measuring window,
# from /proc/PID/task/*/schedstat (nanoseconds, not 10 ms ticks). RSS: VmHWM (the
# peak). "own MB" is VmHWM minus kg-bench-lv-baseline's on the same node: with
# test:///FILE.xml libvirt's test driver and all its domains live inside the
# client process, so that share is the same for any client and is not the
# client's own cost (against a real libvirtd it lives in the daemon).
set -u
KG_SOURCE_DIR=${KG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KG_BUILD_DIR=${KG_BUILD_DIR:-$KG_SOURCE_DIR/build}
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/bench/agent/collectd_conf.sh"
AGENT=$(kg_bin kvmgrid-agent)
BASELINE=$(kg_bin kg-bench-lv-baseline)
SECS=${1:-20}
[ $# -gt 0 ] && shift
SIZES=${*:-10 100 1000}
WINDOW=$((SECS > 13 ? SECS - 3 : 10))
command -v collectd >/dev/null || [ -x /usr/sbin/collectd ] || kg_die "collectd not installed"
COLLECTD=$(command -v collectd || echo /usr/sbin/collectd)

# cpu_ns PID: on-CPU nanoseconds of every thread of a live process
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; }
hwm_kib() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }

# measure NAME PID: warm-up, then CPU and the wire over WINDOW s; one result line
measure() {
    sleep 3 # warm-up: connection, first samples
    c0=$(cpu_ns "$2")
    "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t '#' -R -W "$WINDOW" -F '%t %l' > "$KG_TMP/wire.txt" 2>/dev/null
    c1=$(cpu_ns "$2")
    msgs=$(grep -c . "$KG_TMP/wire.txt")
    bytes=$(awk '{ b += length($1) + $2 } END { print b + 0 }' "$KG_TMP/wire.txt")
    hwm=$(hwm_kib "$2")
    printf '%-14s %6s %12.1f %9.1f %8.1f %11.0f %12.0f\n' "$1" "$N" \
        "$(echo "($c1 - $c0) / 1000000 / $WINDOW" | bc -l)" \
        "$(echo "$hwm / 1024" | bc -l)" "$(echo "($hwm - $BASE) / 1024" | bc -l)" \
        "$(echo "$msgs / $WINDOW" | bc -l)" "$(echo "$bytes / $WINDOW" | bc -l)"
}

printf '%-14s %6s %12s %9s %8s %11s %12s\n' program domains "CPU ms/cycle" "peak MB" "own MB" \
    "msgs/cycle" "bytes/cycle"
for N in $SIZES; do
    python3 "$KG_SOURCE_DIR/bench/agent/gen_node.py" "$N" "$KG_TMP/node-$N.xml"
    BASE=$("$BASELINE" "test://$KG_TMP/node-$N.xml" | awk '{ print $2 }')
    printf '%-14s %6s %12s %9.1f %8s\n' "libvirt alone" "$N" - "$(echo "$BASE / 1024" | bc -l)" 0

    for q in 1 0; do
        kg_broker_start
        kg_spawn "agent-$N-q$q" "$AGENT" --libvirt-uri "test://$KG_TMP/node-$N.xml" \
            --broker "$KG_BROKER_URI" --host bench --interval 1s --proc-root /proc \
            --log-level warn --qos "$q"
        pid=$KG_LAST_PID
        measure "kvmgrid qos$q" "$pid"
        kg_stop "$pid"
        kg_broker_stop
        KG_PORT=""
    done

    kg_broker_start
    collectd_conf "$KG_TMP/collectd-$N.conf" "$KG_TMP/node-$N.xml" 1 60
    kg_spawn "collectd-$N" "$COLLECTD" -f -C "$KG_TMP/collectd-$N.conf"
    pid=$KG_LAST_PID
    measure "collectd qos0" "$pid"
    kg_stop "$pid"
    kg_broker_stop
    KG_PORT=""
done

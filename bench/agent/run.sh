#!/bin/sh
# SPDX-License-Identifier: MIT
# kvmgrid-agent vs collectd (virt + mqtt plugins) on the same libvirt test-driver
# node, same 1 s interval, each against its own private mosquitto: CPU time per
# cycle, peak RSS, and messages and bytes per cycle on the wire. Each at QoS 1 and
# at QoS 0 (collectd's mqtt plugin publishes at QoS 0 unless told), and collectd
# once more at QoS 0 with ReportBlockDevices false: on the test driver its block
# calls all fail and it logs 4 lines per disk and cycle for them (it reports no
# disk figures either way; the agent does). Prints figures; never fails on time.
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
# "libvirt calls": kg-bench-lv-baseline --calls makes only the agent's per-domain
# libvirt calls at the same interval (no JSON, no MQTT); "above calls" is each
# program's CPU minus that floor. collectd makes its own set of calls, not the
# same one, so its figure above the floor is a comparison, not its own code's cost.
# Last, per size, the agent's CPU per cycle over collectd's from the same run (the
# figure issue #16 sets a target for: qos 1 against qos 1), and the load average.
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
# KG_BENCH_WARMUP: seconds before the window (default 3); on a machine busy with
# other work the test driver's first sample of 1000 domains can take several.
WARMUP=${KG_BENCH_WARMUP:-3}
WINDOW=$((SECS > 13 ? SECS - 3 : 10))
command -v collectd >/dev/null || [ -x /usr/sbin/collectd ] || kg_die "collectd not installed"
COLLECTD=$(command -v collectd || echo /usr/sbin/collectd)

# cpu_ns PID: on-CPU nanoseconds of every thread of a live process
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'; }
hwm_kib() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }
ms_per_cycle() { echo "($2 - $1) / 1000000 / $WINDOW" | bc -l; }

# collectd_run NAME CONF_ARGS...: collectd alone against a fresh broker, measured
collectd_run() {
    name=$1
    shift
    kg_broker_start
    kg_collectd_conf "$KG_TMP/collectd-$N.conf" "$KG_TMP/node-$N.xml" 1 60 "$@"
    kg_spawn "collectd-$N-q$1-${2:-true}" "$COLLECTD" -f -C "$KG_TMP/collectd-$N.conf"
    pid=$KG_LAST_PID
    measure "$name" "$pid"
    kg_stop "$pid"
    kg_broker_stop
    KG_PORT=""
}

# measure NAME PID: warm-up, then CPU and the wire over WINDOW s; one result line.
# With KG_PORT empty (no broker: the libvirt-calls floor) the window is timed
# by sleep and there is no wire.
measure() {
    sleep "$WARMUP" # warm-up: connection, first samples
    c0=$(cpu_ns "$2")
    if [ -n "${KG_PORT:-}" ]; then
        "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t '#' -R -W "$WINDOW" -F '%t %l' \
            > "$KG_TMP/wire.txt" 2>/dev/null
    else
        sleep "$WINDOW"
    fi
    c1=$(cpu_ns "$2")
    hwm=$(hwm_kib "$2")
    cpu=$(ms_per_cycle "$c0" "$c1")
    LAST_CPU=$cpu
    printf '%-24s %6s %12.1f' "$1" "$N" "$cpu"
    if [ -n "${FLOOR:-}" ]; then
        printf ' %12.1f' "$(echo "$cpu - $FLOOR" | bc -l)"
    else
        printf ' %12s' -
        FLOOR=$cpu # the first row of a size is the floor
    fi
    printf ' %9.1f %8.1f' "$(echo "$hwm / 1024" | bc -l)" "$(echo "($hwm - $BASE) / 1024" | bc -l)"
    if [ -n "${KG_PORT:-}" ]; then
        msgs=$(grep -c . "$KG_TMP/wire.txt")
        bytes=$(awk '{ b += length($1) + $2 } END { print b + 0 }' "$KG_TMP/wire.txt")
        printf ' %11.0f %12.0f\n' "$(echo "$msgs / $WINDOW" | bc -l)" "$(echo "$bytes / $WINDOW" | bc -l)"
    else
        printf ' %11s %12s\n' - -
    fi
}

RATIOS=""
printf '%-24s %6s %12s %12s %9s %8s %11s %12s\n' program domains "CPU ms/cycle" "above calls" \
    "peak MB" "own MB" "msgs/cycle" "bytes/cycle"
for N in $SIZES; do
    python3 "$KG_SOURCE_DIR/bench/agent/gen_node.py" "$N" "$KG_TMP/node-$N.xml"
    BASE=$("$BASELINE" "test://$KG_TMP/node-$N.xml" | awk '{ print $2 }')
    printf '%-24s %6s %12s %12s %9.1f %8s\n' "libvirt alone" "$N" - - "$(echo "$BASE / 1024" | bc -l)" 0

    FLOOR=""
    KG_PORT=""
    kg_spawn "calls-$N" "$BASELINE" --calls "test://$KG_TMP/node-$N.xml" 1000
    pid=$KG_LAST_PID
    measure "libvirt calls" "$pid"
    kg_stop "$pid"

    for q in 1 0; do
        kg_broker_start
        kg_spawn "agent-$N-q$q" "$AGENT" --libvirt-uri "test://$KG_TMP/node-$N.xml" \
            --broker "$KG_BROKER_URI" --host bench --interval 1s --proc-root /proc \
            --log-level warn --qos "$q"
        pid=$KG_LAST_PID
        measure "kvmgrid qos $q" "$pid"
        eval "AGENT_Q$q=\$LAST_CPU"
        kg_stop "$pid"
        kg_broker_stop
        KG_PORT=""

        collectd_run "collectd qos $q" "$q"
        eval "COLLECTD_Q$q=\$LAST_CPU"
    done
    collectd_run "collectd qos 0 no-disks" 0 false
    RATIOS="$RATIOS$(printf '%6s domains: kvmgrid / collectd CPU per cycle: qos 1 %.2f, qos 0 %.2f, qos 0 against collectd no-disks %.2f' \
        "$N" "$(echo "$AGENT_Q1 / $COLLECTD_Q1" | bc -l)" "$(echo "$AGENT_Q0 / $COLLECTD_Q0" | bc -l)" \
        "$(echo "$AGENT_Q0 / $LAST_CPU" | bc -l)")
"
done
printf '\n%s' "$RATIOS"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"

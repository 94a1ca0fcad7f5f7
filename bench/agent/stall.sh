#!/bin/sh
# SPDX-License-Identifier: MIT
# A frozen broker: SIGSTOP keeps the TCP connection open while nothing is
# acknowledged, so a publisher goes on sending into it. kvmgrid-agent (QoS 1) and
# collectd (virt + mqtt plugins, QoS 1), one after the other, each with its own
# private mosquitto, on the same libvirt test-driver node at a 1 s interval: RSS
# before the freeze (the highest over the last 10 s of a 30 s warm-up: RSS keeps
# the high-water of the steady state's own bursts), every 10 s during it, its
# growth, and RSS 10 s after SIGCONT.
# For the agent also how long after SIGCONT until every VM's retained figures at
# the broker are newer than the thaw (collectd publishes no retained state).
# Prints figures; never fails on them.
#   bench/agent/stall.sh [VMS] [FREEZE_S]        (defaults: 1000 120)
# Needs a built kvmgrid-agent (KG_BUILD_DIR, default ./build) and collectd-core.
set -u
KG_SOURCE_DIR=${KG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KG_BUILD_DIR=${KG_BUILD_DIR:-$KG_SOURCE_DIR/build}
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/bench/agent/collectd_conf.sh"
AGENT=$(kg_bin kvmgrid-agent)
N=${1:-1000}
FREEZE=${2:-120}
COLLECTD=$(command -v collectd || echo /usr/sbin/collectd)
[ -x "$COLLECTD" ] || kg_die "collectd not installed (third_party/install.sh bench)"
XML="$KG_TMP/node-$N.xml"
python3 "$KG_SOURCE_DIR/bench/agent/gen_node.py" "$N" "$XML" || kg_die "cannot write $XML"

mib() { echo "$1" | awk '{ printf "%.1f", $1 / 1024 }'; }

# all_fresh SINCE_MS: every VM's retained figures at the broker are newer than SINCE_MS
all_fresh() {
    kg_sub_retained "$KG_PORT" 'kvmgrid/bench/vm/#' 2 |
        python3 -c '
import json, sys
ts = [json.loads(line)["ts"] for line in sys.stdin if line.strip()]
sys.exit(0 if len(ts) == int(sys.argv[1]) and min(ts) >= int(sys.argv[2]) else 1)' "$N" "$1"
}

# stall NAME PID: warm-up, freeze the broker for FREEZE s, thaw; one result line.
stall() {
    sleep 20
    r0=0 i=0
    while [ $i -lt 10 ]; do
        sleep 1
        r=$(kg_rss_kib "$2")
        [ "$r" -gt "$r0" ] && r0=$r
        i=$((i + 1))
    done
    peak=$r0
    series=""
    kill -STOP "$KG_BROKER_PID"
    t=0
    while [ "$t" -lt "$FREEZE" ]; do
        sleep 10
        t=$((t + 10))
        r=$(kg_rss_kib "$2")
        [ "$r" -gt "$peak" ] && peak=$r
        series="$series $(mib "$r")"
    done
    kill -CONT "$KG_BROKER_PID"
    thaw_ms=$(date +%s%3N)
    recovery=-
    if [ "$1" = kvmgrid-agent ]; then
        if kg_wait_for 120 all_fresh "$thaw_ms"; then
            recovery=$(echo "$(date +%s%3N) $thaw_ms" | awk '{ printf "%.1f", ($1 - $2) / 1000 }')
        else
            recovery=never
        fi
    fi
    sleep 10
    r1=$(kg_rss_kib "$2")
    printf '%-16s %6s %8s %8s %9s %10s %12s\n' "$1" "$N" "$(mib "$r0")" "$(mib "$peak")" \
        "$(mib $((peak - r0)))" "$(mib "$r1")" "$recovery"
    printf '  RSS MiB every 10 s of the freeze:%s\n' "$series"
}

echo "Frozen broker (SIGSTOP ${FREEZE} s) at $N VMs, 1 s interval, QoS 1"
printf '%-16s %6s %8s %8s %9s %10s %12s\n' program VMs "RSS MiB" "peak" "growth" "after" "recovery s"

kg_broker_start
kg_spawn agent "$AGENT" --libvirt-uri "test://$XML" --broker "$KG_BROKER_URI" --host bench \
    --proc-root "" --interval 1s
stall kvmgrid-agent "$KG_LAST_PID"
kg_stop "$KG_LAST_PID"
kg_broker_stop
KG_PORT=""

kg_broker_start
kg_collectd_conf "$KG_TMP/collectd.conf" "$XML" 1 60 1
kg_spawn collectd "$COLLECTD" -f -C "$KG_TMP/collectd.conf"
stall collectd "$KG_LAST_PID"
kg_stop "$KG_LAST_PID"
kg_broker_stop

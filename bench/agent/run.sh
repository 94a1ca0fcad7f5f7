#!/bin/sh
# SPDX-License-Identifier: MIT
# kvmgrid-agent vs collectd (virt + mqtt plugins) on the same libvirt test-driver
# node, same 1 s interval, each against its own private mosquitto: CPU time per
# cycle, peak RSS, and messages and bytes per cycle on the wire. Prints figures;
# never fails on time.
#   bench/agent/run.sh [SECONDS] [SIZES...]      (defaults: 20 s; 10 100 1000)
# Needs a built kvmgrid-agent (KG_BUILD_DIR, default ./build) and collectd-core.
set -u
KG_SOURCE_DIR=${KG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KG_BUILD_DIR=${KG_BUILD_DIR:-$KG_SOURCE_DIR/build}
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
AGENT=$(kg_bin kvmgrid-agent)
SECS=${1:-20}
[ $# -gt 0 ] && shift
SIZES=${*:-10 100 1000}
command -v collectd >/dev/null || [ -x /usr/sbin/collectd ] || kg_die "collectd not installed"
COLLECTD=$(command -v collectd || echo /usr/sbin/collectd)

# cpu_s PID: user+system CPU seconds of a live process
cpu_s() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }
hwm_mb() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# measure NAME PID: waits, counts the wire for 10 s, prints one result line
measure() {
    sleep 3 # warm-up: connection, first samples
    c0=$(cpu_s "$2")
    "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t '#' -W 10 -F '%t %l' > "$KG_TMP/wire.txt" 2>/dev/null
    c1=$(cpu_s "$2")
    sleep $((SECS > 13 ? SECS - 13 : 0))
    msgs=$(grep -c . "$KG_TMP/wire.txt")
    bytes=$(awk '{ b += length($1) + $2 } END { print b + 0 }' "$KG_TMP/wire.txt")
    printf '%-9s %6s %12.1f %10s %14.0f %14.0f\n' "$1" "$N" \
        "$(echo "($c1 - $c0) * 1000 / 10" | bc -l)" "$(hwm_mb "$2")" \
        "$(echo "$msgs / 10" | bc -l)" "$(echo "$bytes / 10" | bc -l)"
}

printf '%-9s %6s %12s %10s %14s %14s\n' program domains "CPU ms/cycle" "peak MB" "msgs/cycle" "bytes/cycle"
for N in $SIZES; do
    python3 "$KG_SOURCE_DIR/bench/agent/gen_node.py" "$N" "$KG_TMP/node-$N.xml"

    kg_broker_start
    kg_spawn "agent-$N" "$AGENT" --libvirt-uri "test://$KG_TMP/node-$N.xml" --broker "$KG_BROKER_URI" \
        --host bench --interval 1s --proc-root /proc --log-level warn
    pid=$KG_LAST_PID
    measure kvmgrid "$pid"
    kg_stop "$pid"
    kg_broker_stop
    KG_PORT=""

    kg_broker_start
    cat > "$KG_TMP/collectd-$N.conf" <<EOC
Hostname "bench"
FQDNLookup false
Interval 1
BaseDir "$KG_TMP"
PIDFile "$KG_TMP/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin virt
LoadPlugin mqtt
<Plugin virt>
  Connection "test://$KG_TMP/node-$N.xml"
  RefreshInterval 60
</Plugin>
<Plugin mqtt>
  <Publish "bench">
    Host "127.0.0.1"
    Port "$KG_PORT"
    ClientId "collectd-bench"
  </Publish>
</Plugin>
EOC
    kg_spawn "collectd-$N" "$COLLECTD" -f -C "$KG_TMP/collectd-$N.conf"
    pid=$KG_LAST_PID
    measure collectd "$pid"
    kg_stop "$pid"
    kg_broker_stop
    KG_PORT=""
done

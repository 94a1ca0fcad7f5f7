#!/bin/sh
# SPDX-License-Identifier: MIT
# Instruction counts per agent cycle (valgrind callgrind: repeatable on a noisy
# machine, unlike CPU seconds). Runs kvmgrid-agent under callgrind on an N-domain
# test-driver node against a private mosquitto, zeroes the counters after a
# warm-up, dumps them after CYCLES more cycles, and prints Ir per cycle plus the
# top functions (inclusive). Figures, never pass/fail. The interval is 15 s so
# that a cycle slowed down ~50x by valgrind still ends before the next is due
# (a late one would be published as a hung cycle and counted wrong).
#   bench/agent/profile.sh N [CYCLES] [EXTRA AGENT FLAGS...]
#   e.g. bench/agent/profile.sh 1000 5 --qos 0
#   --no-broker as the first extra flag: point the agent at a closed port
#   (collection + rates only, nothing published).
#   collectd as the first extra flag: the same for collectd's virt + mqtt plugins
#   (cycles counted on the wire; its domain refresh is left out of the window).
set -u
KG_SOURCE_DIR=${KG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KG_BUILD_DIR=${KG_BUILD_DIR:-$KG_SOURCE_DIR/build}
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/bench/agent/collectd_conf.sh"
AGENT=$(kg_bin kvmgrid-agent)
N=${1:-1000}
CYCLES=${2:-5}
shift 2 2>/dev/null || shift $#
python3 "$KG_SOURCE_DIR/bench/agent/gen_node.py" "$N" "$KG_TMP/node.xml"
if [ "${1:-}" = "--no-broker" ]; then
    shift
    BROKER="tcp://127.0.0.1:$(kg_free_port)"
else
    kg_broker_start
    BROKER=$KG_BROKER_URI
fi
OUT="${KG_PROFILE_OUT:-$KG_TMP/callgrind.out}"
if [ "${1:-}" = "collectd" ]; then
    # The peer on the same node: collectd's virt + mqtt plugins. It logs no
    # cycles, so they are counted on the wire: 6 values per domain per cycle.
    COLLECTD=$(command -v collectd || echo /usr/sbin/collectd)
    collectd_conf "$KG_TMP/collectd.conf" "$KG_TMP/node.xml" 15 3600
    kg_spawn wire "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t '#' -F '%t'
    kg_spawn collectd valgrind --tool=callgrind --callgrind-out-file="$OUT" \
        "$COLLECTD" -f -C "$KG_TMP/collectd.conf"
    pid=$KG_LAST_PID
    per=$((6 * N))
    msgs() { grep -c . "$KG_TMP/wire.log"; }
    kg_wait_for 300 sh -c "[ \$(grep -c . '$KG_TMP/wire.log') -ge $((2 * per)) ]" || kg_die "no cycles"
    callgrind_control -z "$pid" >/dev/null
    m0=$(msgs)
    kg_wait_for 900 sh -c "[ \$(grep -c . '$KG_TMP/wire.log') -ge $((m0 + CYCLES * per)) ]" || kg_die "too slow"
    callgrind_control -d "$pid" >/dev/null
    m1=$(msgs)
    kg_stop "$pid"
    f="$OUT.1"
    total=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    c=$(echo "($m1 - $m0) / $per" | bc -l)
    printf 'collectd: domains %s, cycles %.2f (%s messages), Ir total %s, Ir per cycle %.0f\n' \
        "$N" "$c" "$((m1 - m0))" "$total" "$(echo "$total / $c" | bc -l)"
    callgrind_annotate --inclusive=yes "$f" 2>/dev/null | sed -n '/^Ir/,$p' | grep -v '???:0x' | head -${KG_PROFILE_TOP:-45}
    exit 0
fi
kg_spawn agent valgrind --tool=callgrind --callgrind-out-file="$OUT" --collect-atstart=yes \
    "$AGENT" --libvirt-uri "test://$KG_TMP/node.xml" --broker "$BROKER" \
    --host bench --interval 15s --proc-root /proc --log-level debug "$@"
pid=$KG_LAST_PID
cycles() { grep -c 'cycle: libvirt ok' "$KG_TMP/agent.log"; }
kg_wait_for 300 sh -c "[ \$(grep -c 'cycle: libvirt ok' '$KG_TMP/agent.log') -ge 3 ]" || kg_die "no cycles"
callgrind_control -z "$pid" >/dev/null
c0=$(cycles)
kg_wait_for 900 sh -c "[ \$(grep -c 'cycle: libvirt ok' '$KG_TMP/agent.log') -ge $((c0 + CYCLES)) ]" || kg_die "too slow"
callgrind_control -d "$pid" >/dev/null
c1=$(cycles)
kg_stop "$pid"
f="$OUT.1" # the dump taken after CYCLES cycles (the file without suffix is the exit dump)
total=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
echo "domains $N, cycles $((c1 - c0)), Ir total $total, Ir per cycle $((total / (c1 - c0)))"
callgrind_annotate --inclusive=yes "$f" 2>/dev/null | sed -n '/^Ir/,$p' | grep -v '???:0x' | head -${KG_PROFILE_TOP:-45}

#!/bin/sh
# SPDX-License-Identifier: MIT
# Instruction counts per cycle (valgrind callgrind: repeatable on a noisy machine,
# unlike CPU seconds), user space only. Runs a program under callgrind on an
# N-domain test-driver node, zeroes the counters at the end of one cycle and dumps
# them at the end of CYCLES more, then prints Ir per cycle and the top functions
# (inclusive). Figures, never pass/fail. The interval is 15 s so that a cycle
# slowed down ~50x by valgrind still ends well before the next is due (a late one
# would be published as a hung cycle and counted wrong); on a machine busy with
# other work that is not enough: KG_PROFILE_INTERVAL=S sets it (seconds).
#   bench/agent/profile.sh N [CYCLES] [EXTRA AGENT FLAGS...]
#   e.g. bench/agent/profile.sh 1000 5 --qos 0
# The first extra word may instead name another program or mode:
#   --no-broker   the agent pointed at a closed port (collection + rates only,
#                 nothing published); cycles counted from its debug log.
#   collectd [Q [B]]  collectd's virt + mqtt plugins (QoS Q, default 0; B false:
#                 ReportBlockDevices false, see collectd_conf.sh).
#   calls         kg-bench-lv-baseline --calls: only the agent's per-domain libvirt
#                 calls, the floor under any client of this node.
# Where a program publishes, a cycle ends when its last message of the cycle has
# reached a `#` subscriber (N VM messages for the agent, 6 values per domain for
# collectd), so the window holds whole cycles: collection and publishing alike.
# The floor publishes nothing: its cycles are its virDomainGetInfo calls / N.
# KG_PROFILE_OUT names the output (the dump is OUT.1); KG_PROFILE_TOP the number
# of functions listed (default 45).
set -u
KG_SOURCE_DIR=${KG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KG_BUILD_DIR=${KG_BUILD_DIR:-$KG_SOURCE_DIR/build}
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/bench/agent/collectd_conf.sh"
AGENT=$(kg_bin kvmgrid-agent)
N=${1:-1000}
CYCLES=${2:-5}
shift 2 2>/dev/null || shift $#
MODE=agent
case "${1:-}" in
--no-broker | collectd | calls) MODE=$1; shift ;;
esac
python3 "$KG_SOURCE_DIR/bench/agent/gen_node.py" "$N" "$KG_TMP/node.xml"
OUT="${KG_PROFILE_OUT:-$KG_TMP/callgrind.out}"
IV=${KG_PROFILE_INTERVAL:-15}
CG="valgrind --tool=callgrind --callgrind-out-file=$OUT"

# count_at_least FILE PATTERN N: FILE has at least N lines matching PATTERN
count_at_least() { [ "$(grep -c -- "$2" "$1")" -ge "$3" ]; }
# window COUNT_FILE PATTERN PER: zero after 2 whole cycles, dump after CYCLES more;
# sets CYC (cycles in the window, from the lines counted)
window() {
    kg_wait_for 300 count_at_least "$1" "$2" $((2 * $3)) || kg_die "no cycles"
    m0=$(( ($(grep -c -- "$2" "$1") + $3 - 1) / $3 * $3 )) # seen mid-cycle: the next end
    kg_wait_for 300 count_at_least "$1" "$2" "$m0" || kg_die "no cycles"
    callgrind_control -z "$pid" >/dev/null
    kg_wait_for 900 count_at_least "$1" "$2" $((m0 + CYCLES * $3)) || kg_die "too slow"
    callgrind_control -d "$pid" >/dev/null
    m1=$(grep -c -- "$2" "$1")
    CYC=$(echo "($m1 - $m0) / $3" | bc -l)
}
report() {
    kg_stop "$pid"
    f="$OUT.1" # the dump taken after CYCLES cycles (the file without suffix is the exit dump)
    total=$(callgrind_annotate "$f" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
    printf '%s: domains %s, cycles %.2f, Ir total %s, Ir per cycle %.0f\n' \
        "$1" "$N" "$CYC" "$total" "$(echo "$total / $CYC" | bc -l)"
    callgrind_annotate --inclusive=yes "$f" 2>/dev/null | sed -n '/^Ir/,$p' | grep -v '???:0x' |
        head -"${KG_PROFILE_TOP:-45}"
}

case $MODE in
calls)
    kg_spawn calls $CG "$(kg_bin kg-bench-lv-baseline)" --calls "test://$KG_TMP/node.xml" $((IV * 1000))
    pid=$KG_LAST_PID
    kg_wait_for 300 grep -q 'calls:' "$KG_TMP/calls.log" || kg_die "no first cycle"
    callgrind_control -z "$pid" >/dev/null
    sleep $((CYCLES * IV)) # the window; no wire to count on
    callgrind_control -d "$pid" >/dev/null
    calls=$(callgrind_annotate --threshold=100 --tree=calling --auto=no "$OUT.1" 2>/dev/null |
        sed -n 's/.*)  >  *???:virDomainGetInfo (\([0-9,]*\)x).*/\1/p' | tr -d , | awk '{ s += $1 } END { print s }')
    CYC=$(echo "$calls / $N" | bc -l)
    report "libvirt calls"
    ;;
collectd)
    # 6 values per domain per cycle (cpu, memory, vcpu and 3 interface figures)
    COLLECTD=$(command -v collectd || echo /usr/sbin/collectd)
    kg_broker_start
    kg_collectd_conf "$KG_TMP/collectd.conf" "$KG_TMP/node.xml" "$IV" 3600 "${1:-0}" "${2:-true}"
    kg_spawn wire "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t '#' -F '%t'
    kg_spawn collectd $CG "$COLLECTD" -f -C "$KG_TMP/collectd.conf"
    pid=$KG_LAST_PID
    window "$KG_TMP/wire.log" / $((6 * N))
    report "collectd qos ${1:-0}, ReportBlockDevices ${2:-true}"
    ;;
--no-broker)
    kg_spawn agent $CG "$AGENT" --libvirt-uri "test://$KG_TMP/node.xml" \
        --broker "tcp://127.0.0.1:$(kg_free_port)" --host bench --interval "${IV}s" --proc-root /proc \
        --log-level debug "$@"
    pid=$KG_LAST_PID
    window "$KG_TMP/agent.log" 'cycle: libvirt ok' 1
    report "kvmgrid, no broker"
    ;;
agent)
    kg_broker_start
    kg_spawn wire "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t '#' -F '%t'
    kg_spawn agent $CG "$AGENT" --libvirt-uri "test://$KG_TMP/node.xml" --broker "$KG_BROKER_URI" \
        --host bench --interval "${IV}s" --proc-root /proc --log-level warn "$@"
    pid=$KG_LAST_PID
    window "$KG_TMP/wire.log" /vm/ "$N" # one message per VM per cycle (no deadband)
    report "kvmgrid $*"
    ;;
esac

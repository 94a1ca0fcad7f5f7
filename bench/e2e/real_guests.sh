#!/bin/sh
# SPDX-License-Identifier: MIT
# kvmgrid-agent on real QEMU guests (tools/guest/rig.sh; TCG without KVM), the bulk
# path of qemu:///system: the agent's CPU per cycle, peak RSS and wire per cycle,
# libvirtd's CPU per cycle when the rig started it, and the time from a load command
# (mosquitto_pub to one guest) to that VM's tile turning hot on a running headless
# wall (kvmgrid-wall --trace-tile), step by step, for each agent interval. Prints
# figures; never fails on time.
#   bench/e2e/real_guests.sh [GUESTS] [SECONDS] [TRIALS] [INTERVALS]   (defaults: 2 20 5 "1 5")
# Needs root, a built kvmgrid-agent, kvmgrid-wall and kvmgrid-load
# (KG_BUILD_DIR, default ./build).
set -u
KG_SOURCE_DIR=${KG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KG_BUILD_DIR=${KG_BUILD_DIR:-$KG_SOURCE_DIR/build}
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/e2e/lib-e2e.sh"
AGENT=$(kg_bin kvmgrid-agent) || exit 1
WALL=$(kg_bin kvmgrid-wall) || exit 1
N=${1:-2} SECS=${2:-20} TRIALS=${3:-5} INTERVALS=${4:-1 5}
for v in "$N" "$SECS" "$TRIALS" $INTERVALS; do case "$v" in ''|*[!0-9]*) kg_die "usage: $0 [GUESTS] [SECONDS] [TRIALS] [INTERVALS (agent intervals in s, e.g. \"1 5\")]" ;; esac; done
export SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0

cpu_ms() { awk '{ printf "%d", ($14 + $15) * 10 }' "/proc/$1/stat"; }
hwm_mb() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }

hv="bench-hv-$$"
kg_broker_start
kg_e2e_up
t0=$(now)
i=1
while [ $i -le "$N" ]; do kg_e2e_boot "kgbench-$$-$i" --mem 192; i=$((i + 1)); done
for g in $KG_E2E_GUESTS; do
    kg_wait_for 300 kg_has_retained "kvmgrid/$g/load/state" || kg_die "$g: no load state within 300 s"
done
echo "guests: $N booted, every load generator connected $(since "$t0") s after the first boot"

kg_spawn agent "$AGENT" --libvirt-uri qemu:///system --broker "$KG_BROKER_URI" --host "$hv" --interval 1s --log-level warn
AP=$KG_LAST_PID
lv=$(awk '$1 == "libvirtd" { print $2 }' /run/kvmgrid-rig/daemons 2>/dev/null | head -n 1)
sleep 3 # warm-up: connection, first samples
a0=$(cpu_ms "$AP"); l0=$([ -n "$lv" ] && cpu_ms "$lv" || echo 0)
"$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t "kvmgrid/$hv/#" -W "$SECS" -F '%t %l' >"$KG_TMP/wire.txt" 2>/dev/null
a1=$(cpu_ms "$AP"); l1=$([ -n "$lv" ] && cpu_ms "$lv" || echo 0)
msgs=$(grep -c . "$KG_TMP/wire.txt")
bytes=$(awk '{ b += length($1) + $2 } END { print b + 0 }' "$KG_TMP/wire.txt")
awk -v n="$N" -v s="$SECS" -v c="$((a1 - a0))" -v r="$(hwm_mb "$AP")" -v m="$msgs" -v b="$bytes" 'BEGIN {
    printf "agent: %d guests, 1 s interval, %d s: CPU %.1f ms/cycle, peak RSS %s MB, %.1f msgs/cycle, %.0f bytes/cycle\n",
        n, s, c / s, r, m / s, b / s }'
if [ -n "$lv" ]; then
    awk -v c="$((l1 - l0))" -v s="$SECS" 'BEGIN {
        printf "libvirtd (started by the rig; serves the agent and the guests): CPU %.1f ms/cycle\n", c / s }'
fi

kg_stop "$AP"

# ---- load command to the wall, on a running wall ------------------------------
# One wall runs throughout with --trace-tile on the loaded guest: it prints a
# realtime-stamped line each time that tile is presented in another colour. One
# mosquitto_sub logs every message under kvmgrid/ with its arrival time (%U), so
# the command, the guest's load state and the agent's figures are all stamped by
# the host's clock as a subscriber sees them. For each agent interval, TRIALS
# times: a 100 % CPU load to the first guest, wait for its tile to be hot, stop,
# wait for it to be cold again.
g=$(echo $KG_E2E_GUESTS | cut -d' ' -f1)
kg_spawn msglog "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t 'kvmgrid/#' -F '%U %t %p'
kg_spawn wall "$WALL" --broker "$KG_BROKER_URI" --size 800x600 --metric cpu --trace-tile "$g"
WP=$KG_LAST_PID
# tile_green: green channel of the tile's last traced colour (viridis' green rises
# monotonically from cold 0x01 to hot 0xE7); "" before the first trace line.
tile_green() {
    c=$(grep '^trace-tile .* colour ' "$KG_TMP/wall.log" | tail -n 1 | cut -d' ' -f4)
    [ -n "$c" ] && printf '%d' "0x$(echo "$c" | cut -c3-4)"
}
tile_cold() { v=$(tile_green); [ -n "$v" ] && [ "$v" -lt 50 ]; }
# tile_hot_since MS: a trace line at or after MS (realtime) shows the tile hot (green >= 75).
tile_hot_since() {
    grep '^trace-tile .* colour ' "$KG_TMP/wall.log" | awk -v t="$1" '
        function hex(s) { return 16 * (index("0123456789ABCDEF", substr(s, 1, 1)) - 1) + index("0123456789ABCDEF", substr(s, 2, 1)) - 1 }
        $6 >= t && hex(substr($4, 3, 2)) >= 75 { f = 1 } END { exit !f }'
}
vmcpu() {
    kg_retained_payload "kvmgrid/$hv/vm/$g" |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("cpu_pct", ""))' 2>/dev/null
}
cold_agent() { awk -v v="$(vmcpu)" 'BEGIN { exit !(v != "" && v <= 10) }'; }
for iv in $INTERVALS; do
    kg_spawn agent "$AGENT" --libvirt-uri qemu:///system --broker "$KG_BROKER_URI" --host "$hv" --interval "${iv}s" --log-level warn
    AP=$KG_LAST_PID
    t=1
    while [ $t -le "$TRIALS" ]; do
        { kg_wait_for 90 cold_agent && kg_wait_for 30 tile_cold; } || kg_log "interval $iv s, trial $t: guest or tile not cold before the command"
        # A random phase against the agent's sampling: the cold check above
        # returns right after a sample, which would always send the command at the
        # start of an interval (the worst case) instead of anywhere in it.
        sleep "$(od -An -N2 -tu2 /dev/urandom | awk -v i="$iv" '{ printf "%.3f", $1 / 65536 * i }')"
        ms=$(date +%s%3N)
        kg_pub "kvmgrid/$g/load/cmd" "{\"schema\":1,\"cmd\":\"start\",\"id\":\"lat-$iv-$t\",\"kind\":\"cpu\",\"pct\":100,\"workers\":1,\"duration_s\":120}"
        kg_wait_for 90 tile_hot_since "$ms" || kg_log "interval $iv s, trial $t: tile not hot within 90 s"
        kg_pub "kvmgrid/$g/load/cmd" "{\"schema\":1,\"cmd\":\"stop\",\"id\":\"lat-$iv-$t-stop\"}"
        t=$((t + 1))
    done
    kg_stop "$AP"
done
echo "host load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# Each step as a subscriber and the wall see it: command on the broker -> the
# guest's load state "running" -> the agent's figure that turned the tile hot ->
# the tile presented hot.
python3 - "$KG_TMP/msglog.log" "$KG_TMP/wall.log" "$hv" "$g" "$INTERVALS" "$TRIALS" <<'PY'
import json, statistics, sys
msglog, walllog, hv, g, intervals, trials = sys.argv[1:7]
msgs = []
for line in open(msglog, errors="replace"):
    p = line.rstrip("\n").split(" ", 2)
    if len(p) == 3:
        try:
            msgs.append((float(p[0]), p[1], p[2]))
        except ValueError:
            pass
trace = []
for line in open(walllog, errors="replace"):
    p = line.split()
    if len(p) == 6 and p[0] == "trace-tile" and p[2] == "colour":
        trace.append((int(p[5]) / 1000.0, int(p[3][2:4], 16)))
def js(s):
    try:
        return json.loads(s)
    except ValueError:
        return {}
fmt = lambda xs: "%.2f / %.2f s" % (statistics.median(xs), max(xs)) if xs else "-"
for iv in intervals.split():
    rows = []
    for t in range(1, int(trials) + 1):
        cid = "lat-%s-%d" % (iv, t)
        tc = next((m[0] for m in msgs if m[1] == "kvmgrid/%s/load/cmd" % g and js(m[2]).get("id") == cid), None)
        if tc is None:
            print("interval %s s, trial %d: command not seen" % (iv, t)); continue
        tr = next((m[0] for m in msgs if m[0] >= tc and m[1] == "kvmgrid/%s/load/state" % g
                   and js(m[2]).get("id") == cid and js(m[2]).get("status") == "running"), None)
        tt = next((x[0] for x in trace if x[0] >= tc and x[1] >= 75), None)
        if tr is None or tt is None:
            print("interval %s s, trial %d: load state running %s, hot tile %s" % (iv, t, tr, tt)); continue
        figs = [m for m in msgs if tc <= m[0] <= tt + 0.05 and m[1] == "kvmgrid/%s/vm/%s" % (hv, g)]
        if not figs:
            print("interval %s s, trial %d: no agent figure before the hot tile" % (iv, t)); continue
        fig = js(figs[-1][2])
        tf, pct, ts = figs[-1][0], fig.get("cpu_pct"), fig.get("ts", 0) / 1000.0
        rows.append((tr - tc, tf - tr, tt - tf, tt - tc, tf - ts))
        print("interval %s s, trial %d: command -> load running %.2f s -> agent figure (cpu_pct %s; sampled %.3f s before it arrived) %.2f s -> tile hot %.3f s; total %.2f s"
              % (iv, t, tr - tc, pct, tf - ts, tf - tr, tt - tf, tt - tc))
    if rows:
        col = lambda i: fmt([r[i] for r in rows])
        print("interval %s s, %d trials, median / max: command -> load running %s; -> agent figure %s (sample to arrival %s); -> tile hot %s; total %s"
              % (iv, len(rows), col(0), col(1), col(4), col(2), col(3)))
PY
kg_stop "$WP"
exit 0

#!/bin/sh
# SPDX-License-Identifier: MIT
# kvmgrid-agent on real QEMU guests (tools/guest/rig.sh; TCG without KVM), the bulk
# path of qemu:///system: the agent's CPU per cycle, peak RSS and wire per cycle,
# libvirtd's CPU per cycle when the rig started it, and the time from a load command
# (mosquitto_pub to one guest) to the agent's hot figure and to a hot tile in a
# freshly started headless wall. Prints figures; never fails on time.
#   bench/e2e/real_guests.sh [GUESTS] [SECONDS] [TRIALS]   (defaults: 2 20 3)
# Needs root, a built kvmgrid-agent, kvmgrid-wall, kg-wall-pixels and kvmgrid-load
# (KG_BUILD_DIR, default ./build).
set -u
KG_SOURCE_DIR=${KG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KG_BUILD_DIR=${KG_BUILD_DIR:-$KG_SOURCE_DIR/build}
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/e2e/lib-e2e.sh"
AGENT=$(kg_bin kvmgrid-agent)
WALL=$(kg_bin kvmgrid-wall)
PIXELS=$(kg_bin kg-wall-pixels)
N=${1:-2} SECS=${2:-20} TRIALS=${3:-3}
for v in "$N" "$SECS" "$TRIALS"; do case "$v" in ''|*[!0-9]*) kg_die "usage: $0 [GUESTS] [SECONDS] [TRIALS]" ;; esac; done
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
    kg_wait_for 300 kg_e2e_retained_has "kvmgrid/$g/load/state" || kg_die "$g: no load state within 300 s"
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

# Command to hot: CPU load on the first guest, then stop; TRIALS times.
g=$(echo $KG_E2E_GUESTS | cut -d' ' -f1)
vmcpu() {
    "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t "kvmgrid/$hv/vm/$g" --retained-only -C 1 -W 2 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("cpu_pct", 0))' 2>/dev/null
}
hot_agent() { awk -v v="$(vmcpu)" 'BEGIN { exit !(v >= 25) }'; }
cold_agent() { awk -v v="$(vmcpu)" 'BEGIN { exit !(v != "" && v <= 10) }'; }
hot_tile() {
    "$WALL" --broker "$KG_BROKER_URI" --size 800x600 --metric cpu --timeout 20s \
        --screenshot "$KG_TMP/poll.png" --dump-layout "$KG_TMP/poll.txt" >>"$KG_TMP/wall.log" 2>&1 || return 1
    set -- $(grep "^tile $hv $g " "$KG_TMP/poll.txt" | head -n 1)
    [ $# -ge 6 ] || return 1
    rgb=$(echo "$(($4 + $6 / 2)) $(($5 + $6 / 2))" | "$PIXELS" "$KG_TMP/poll.png" | tail -n 1 | cut -d' ' -f3)
    [ "$(printf '%d' "0x$(echo "$rgb" | cut -c3-4)")" -ge 75 ]
}
t=1
while [ $t -le "$TRIALS" ]; do
    kg_wait_for 60 cold_agent || kg_log "trial $t: guest not idle before the command"
    kg_pub "kvmgrid/$g/load/cmd" '{"schema":1,"cmd":"start","id":"bench","kind":"cpu","pct":100,"workers":1,"duration_s":120}'
    tc=$(now)
    kg_wait_for 60 hot_agent && da=$(since "$tc") || da=timeout
    kg_wait_for 60 hot_tile && dw=$(since "$tc") || dw=timeout
    echo "trial $t: load command -> agent cpu_pct >= 25: $da s; -> hot tile in a fresh wall screenshot: $dw s"
    kg_pub "kvmgrid/$g/load/cmd" '{"schema":1,"cmd":"stop","id":"bench-stop"}'
    t=$((t + 1))
done
echo "host load average: $(cut -d' ' -f1-3 /proc/loadavg)"
kg_stop "$AP"
exit 0

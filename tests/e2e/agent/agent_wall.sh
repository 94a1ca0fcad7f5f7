#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole chain on real QEMU guests (issue #7, item 3): a private mosquitto, two
# guests running kvmgrid-load, kvmgrid-agent on qemu:///system, kvmgrid-wall
# headless. Through MQTT alone (a load command to one guest) it starts a CPU load,
# then memory, then disk, and checks that the agent's published figures for that
# VM rise (cpu_pct, mem_used_kib, disk_wr_bytes_per_s) while the other guest stays
# idle; that the wall's screenshot shows the loaded VM's tile hot and the other
# cold; that stopping the load brings it back; that the agent's figures agree with
# `virsh domstats` taken at the same time; and that destroying a guest removes its
# retained topic and its tile.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/e2e/lib-e2e.sh"

AGENT=$(kg_bin kvmgrid-agent)
WALL=$(kg_bin kvmgrid-wall)
PIXELS=$(kg_bin kg-wall-pixels)
export SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0

hv="e2e-hv-$$"
g1="kge2e-$$-hot"
g2="kge2e-$$-cold"

kg_broker_start
kg_e2e_up
# 192 MiB: a 64 MiB memory load by an ASan build of kvmgrid-load (run.sh test) got
# OOM-killed in 160 MiB. A tap NIC on g1: the hypervisor reports net.* for it.
kg_e2e_boot "$g1" --mem 192 --tap
kg_e2e_boot "$g2" --mem 192
for g in "$g1" "$g2"; do
    kg_wait_for 180 kg_e2e_retained_has "kvmgrid/$g/load/state" || kg_die "$g: load generator not connected within 180 s"
done
kg_pass "both guests' load generators are connected"

kg_spawn agent "$AGENT" --libvirt-uri "$(. "$KG_RIG_DIR/rig.env"; echo "$KG_RIG_URI")" \
    --broker "$KG_BROKER_URI" --host "$hv" --interval 1s --log-level info
AGENT_PID=$KG_LAST_PID

# vmjson VM: the agent's retained payload for VM. vmf VM FIELD: one numeric field
# ("" when absent).
vmjson() { "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t "kvmgrid/$hv/vm/$1" --retained-only -C 1 -W 2 2>/dev/null; }
vmf() {
    vmjson "$1" | python3 -c 'import json,sys
try:
    v = json.load(sys.stdin).get(sys.argv[1])
except Exception:
    v = None
print("" if v is None else v)' "$2"
}
# field_at_least VM FIELD MIN / field_at_most VM FIELD MAX: for kg_wait_for.
field_at_least() { v=$(vmf "$1" "$2"); [ -n "$v" ] && awk -v v="$v" -v m="$3" 'BEGIN { exit !(v >= m) }'; }
field_at_most() { v=$(vmf "$1" "$2"); [ -n "$v" ] && awk -v v="$v" -v m="$3" 'BEGIN { exit !(v <= m) }'; }
load_cmd() { kg_pub "kvmgrid/$g1/load/cmd" "$1" || kg_fail "publish load command"; }

# shot NAME METRIC: headless wall screenshot + layout into $KG_TMP/NAME.{png,txt}.
shot() {
    "$WALL" --broker "$KG_BROKER_URI" --size 800x600 --metric "$2" --timeout 20s \
        --screenshot "$KG_TMP/$1.png" --dump-layout "$KG_TMP/$1.txt" >>"$KG_TMP/wall.log" 2>&1 ||
        kg_fail "wall screenshot $1 (exit $?)"
}
# green SHOT VM: green channel (0..255) of VM's tile centre. Viridis' green rises
# monotonically from cold (0x01) to hot (0xE7), whatever the metric's scale.
green() {
    set -- "$1" $(grep "^tile $hv $2 " "$KG_TMP/$1.txt" | head -n 1)
    [ $# -ge 7 ] || { echo ""; return; }
    rgb=$(echo "$(($5 + $7 / 2)) $(($6 + $7 / 2))" | "$PIXELS" "$KG_TMP/$1.png" | tail -n 1 | cut -d' ' -f3)
    printf '%d' "0x$(echo "$rgb" | cut -c3-4)"
}
hot_cold() { # SHOT: g1's tile hot, g2's cold
    h=$(green "$1" "$g1"); c=$(green "$1" "$g2")
    kg_log "$1: $g1 tile green $h, $g2 tile green $c"
    [ -n "$h" ] && [ -n "$c" ] || { kg_fail "$1: tiles missing from the layout"; return; }
    kg_e2e_ge "$1: loaded VM's tile is hot" "$h" "$((c + 40))"
}

# Both VMs published with rates (the second sample on).
for g in "$g1" "$g2"; do
    kg_wait_for 60 field_at_least "$g" cpu_pct 0 && kg_pass "$g published with cpu_pct" || kg_die "$g: no cpu_pct from the agent within 60 s"
done
kg_wait_for 30 field_at_least "$g2" mem_used_kib 1 && kg_pass "$g2 published mem_used_kib" || kg_fail "$g2: no mem_used_kib (balloon stats)"
kg_e2e_le "$g2 idle cpu_pct" "$(vmf "$g2" cpu_pct)" 20
kg_wait_for 30 field_at_least "$g1" net_rx_bytes_per_s 0 && kg_pass "$g1 (tap) publishes network rates" || kg_fail "$g1: no net_rx_bytes_per_s though it has a tap"
mem1_idle=$(vmf "$g1" mem_used_kib)
mem2_idle=$(vmf "$g2" mem_used_kib)

# ---- CPU ----
since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
load_cmd '{"schema":1,"cmd":"start","id":"e2e-cpu","kind":"cpu","pct":100,"workers":1,"duration_s":600}'
t_cmd=$(date +%s.%N)
# 2 shared cores: a busy vCPU under TCG gets 40-100 % of a core; idle is 2-5 %.
if kg_wait_for 60 field_at_least "$g1" cpu_pct 25; then
    kg_pass "$g1 cpu_pct rises after a CPU load command ($(since "$t_cmd") s, agent interval 1 s)"
else
    kg_fail "$g1 cpu_pct did not reach 25 (now $(vmf "$g1" cpu_pct))"
fi
# Load command to hot tile, as a freshly started wall draws it (an upper bound for a
# running wall, which redraws on the message itself); viridis green 75 ~ 22 %.
tile_hot() { shot poll cpu && [ "$(green poll "$g1")" -ge 75 ]; }
kg_wait_for 60 tile_hot && kg_pass "wall tile hot $(since "$t_cmd") s after the load command" || kg_fail "wall tile not hot within 60 s"
kg_e2e_le "$g2 stays idle during $g1's CPU load" "$(vmf "$g2" cpu_pct)" 20
# Agreement with virsh domstats over the same seconds.
c0=$(kg_e2e_domstat "$g1" cpu.time); t0=$(date +%s.%N)
sleep 3
c1=$(kg_e2e_domstat "$g1" cpu.time); t1=$(date +%s.%N)
agent_pct=$(vmf "$g1" cpu_pct)
virsh_pct=$(awk -v a="$c0" -v b="$c1" -v ta="$t0" -v tb="$t1" 'BEGIN { printf "%.1f", (b - a) / (tb - ta) / 1e7 }')
kg_log "cpu: agent $agent_pct %, virsh domstats $virsh_pct %"
diff=$(awk -v a="$agent_pct" -v b="$virsh_pct" 'BEGIN { d = a - b; if (d < 0) d = -d; printf "%.1f", d }')
kg_e2e_le "agent cpu_pct agrees with virsh domstats (difference, points)" "$diff" 20
shot cpu-busy cpu
hot_cold cpu-busy
load_cmd '{"schema":1,"cmd":"stop","id":"e2e-cpu-stop"}'
kg_wait_for 60 field_at_most "$g1" cpu_pct 15 && kg_pass "$g1 cpu_pct back down after stop" || kg_fail "$g1 cpu_pct still $(vmf "$g1" cpu_pct) after stop"
shot cpu-idle cpu
h=$(green cpu-idle "$g1"); c=$(green cpu-idle "$g2")
kg_e2e_le "after stop the tile is cold again" "$h" "$((c + 30))"

# ---- memory ----
load_cmd '{"schema":1,"cmd":"start","id":"e2e-mem","kind":"mem","mib":64,"duration_s":600}'
want=$(( ${mem1_idle:-0} + 40 * 1024 ))
kg_wait_for 60 field_at_least "$g1" mem_used_kib "$want" && kg_pass "$g1 mem_used_kib rises by 40+ MiB under a 64 MiB load" ||
    kg_fail "$g1 mem_used_kib $(vmf "$g1" mem_used_kib), wanted >= $want (idle $mem1_idle)"
m2=$(vmf "$g2" mem_used_kib)
kg_e2e_le "$g2 memory unchanged (KiB difference)" "$(awk -v a="$m2" -v b="${mem2_idle:-0}" 'BEGIN { d = a - b; if (d < 0) d = -d; print d }')" 10240
# Agreement: the agent's "used" is the balloon's available minus usable (KiB).
virsh_used=$(( $(kg_e2e_domstat "$g1" balloon.available) - $(kg_e2e_domstat "$g1" balloon.usable) ))
agent_used=$(vmf "$g1" mem_used_kib)
kg_log "memory used: agent $agent_used KiB, virsh domstats $virsh_used KiB"
kg_e2e_le "agent mem_used_kib agrees with virsh domstats (KiB difference)" \
    "$(awk -v a="$agent_used" -v b="$virsh_used" 'BEGIN { d = a - b; if (d < 0) d = -d; print d }')" 8192
shot mem-busy mem
hot_cold mem-busy
load_cmd '{"schema":1,"cmd":"stop","id":"e2e-mem-stop"}'
kg_wait_for 60 field_at_most "$g1" mem_used_kib $(( ${mem1_idle:-0} + 16 * 1024 )) && kg_pass "$g1 memory released after stop" ||
    kg_fail "$g1 mem_used_kib $(vmf "$g1" mem_used_kib) after stop (idle $mem1_idle)"

# ---- disk ----
load_cmd '{"schema":1,"cmd":"start","id":"e2e-disk","kind":"disk","mode":"write","mb_per_s":4,"duration_s":600}'
kg_wait_for 60 field_at_least "$g1" disk_wr_bytes_per_s 2000000 && kg_pass "$g1 disk_wr_bytes_per_s rises under a 4 MB/s write load" ||
    kg_fail "$g1 disk_wr_bytes_per_s $(vmf "$g1" disk_wr_bytes_per_s)"
kg_e2e_le "$g2 writes nothing meanwhile (B/s)" "$(vmf "$g2" disk_wr_bytes_per_s)" 100000
w0=$(kg_e2e_domstat "$g1" block.0.wr.bytes); t0=$(date +%s.%N)
sleep 4
w1=$(kg_e2e_domstat "$g1" block.0.wr.bytes); t1=$(date +%s.%N)
agent_wr=$(vmf "$g1" disk_wr_bytes_per_s)
virsh_wr=$(awk -v a="$w0" -v b="$w1" -v ta="$t0" -v tb="$t1" 'BEGIN { printf "%.0f", (b - a) / (tb - ta) }')
kg_log "disk writes: agent $agent_wr B/s, virsh domstats $virsh_wr B/s"
ratio=$(awk -v a="$agent_wr" -v b="$virsh_wr" 'BEGIN { if (b <= 0) print 99; else printf "%.2f", a / b }')
kg_e2e_ge "agent disk writes agree with virsh (ratio)" "$ratio" 0.5
kg_e2e_le "agent disk writes agree with virsh (ratio)" "$ratio" 2
shot disk-busy disk
hot_cold disk-busy
load_cmd '{"schema":1,"cmd":"stop","id":"e2e-disk-stop"}'
kg_wait_for 60 field_at_most "$g1" disk_wr_bytes_per_s 200000 && kg_pass "$g1 disk writes stop" || kg_fail "$g1 still writes $(vmf "$g1" disk_wr_bytes_per_s) B/s"

# ---- a guest goes away ----
kg_e2e_destroy "$g2"
gone() { [ -z "$(vmjson "$g2")" ]; }
kg_wait_for 30 gone && kg_pass "destroyed guest's retained topic removed" || kg_fail "kvmgrid/$hv/vm/$g2 still retained"
shot after-destroy cpu
kg_assert_not_contains "destroyed guest has no tile" "$(cat "$KG_TMP/after-destroy.txt")" "tile $hv $g2 "
kg_assert_contains "the other guest keeps its tile" "$(cat "$KG_TMP/after-destroy.txt")" "tile $hv $g1 "

kg_e2e_check_consoles
kg_stop "$AGENT_PID"
kg_assert_eq "agent exits 0 on SIGTERM" 0 "$KG_EXIT_STATUS"
kg_assert_eq "agent status offline" "kvmgrid/$hv/status offline" "$(kg_retained "kvmgrid/$hv/status")"
cp "$KG_TMP"/*.txt "$KG_TMP/layouts.log" 2>/dev/null || true
exit 0

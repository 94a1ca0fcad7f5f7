#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole chain on real QEMU guests: a private mosquitto, two
# guests running kvmgrid-load, kvmgrid-agent on qemu:///system, kvmgrid-wall
# headless. Through MQTT alone (a load command to one guest) it starts a CPU load,
# then memory, then disk, and checks that the agent's published figures for that
# VM rise (cpu_pct, mem_used_kib, disk_wr_bytes_per_s) while the other guest stays
# idle; that a running wall turns the loaded VM's tile hot (--trace-tile) and that
# the wall's screenshot shows it hot and the other cold; that stopping the load
# brings it back; that the agent's figures, averaged over the same seconds, agree
# with `virsh domstats` deltas; and that destroying a guest removes its retained
# topic and its tile.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/e2e/lib-e2e.sh"

# kg_bin's kg_die runs in a command substitution's subshell: exit here too.
AGENT=$(kg_bin kvmgrid-agent) || exit 1
WALL=$(kg_bin kvmgrid-wall) || exit 1
PIXELS=$(kg_bin kg-wall-pixels) || exit 1
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
    kg_wait_for 180 kg_has_retained "kvmgrid/$g/load/state" || kg_die "$g: load generator not connected within 180 s"
done
kg_pass "both guests' load generators are connected"

# Every message under kvmgrid/ with its arrival time (%U): the agent's figures are
# averaged over the same seconds as `virsh domstats` deltas, never one sample
# against a window (a TCG vCPU's share of a shared core moves by tens of points
# from one second to the next).
kg_spawn msglog "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t 'kvmgrid/#' -F '%U %t %p'
# A wall that runs throughout and reports each colour change of g1's tile
# (--trace-tile): the test waits for the tile itself, not for a fresh wall's start.
kg_spawn wall-running "$WALL" --broker "$KG_BROKER_URI" --size 800x600 --metric cpu --trace-tile "$g1"
WALL_PID=$KG_LAST_PID
kg_spawn agent "$AGENT" --libvirt-uri "$(. "$KG_RIG_DIR/rig.env"; echo "$KG_RIG_URI")" \
    --broker "$KG_BROKER_URI" --host "$hv" --interval 1s --log-level info
AGENT_PID=$KG_LAST_PID

# vmjson VM: the agent's retained payload for VM. vmf VM FIELD: one numeric field
# ("" when absent).
vmjson() { kg_retained_payload "kvmgrid/$hv/vm/$1"; }
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
# window_mean VM FIELD T0 T1: mean of FIELD over the agent's samples for VM taken
# (their "ts") within [T0 + 1, T1] (epoch seconds), i.e. rates over intervals
# inside [T0, T1] at a 1 s interval; "" when there is none.
window_mean() {
    python3 - "$KG_TMP/msglog.log" "kvmgrid/$hv/vm/$1" "$2" "$3" "$4" <<'PY'
import json, sys
log, topic, field, t0, t1 = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
vals = []
for line in open(log, errors="replace"):
    p = line.rstrip("\n").split(" ", 2)
    if len(p) < 3 or p[1] != topic:
        continue
    try:
        d = json.loads(p[2])
    except ValueError:
        continue
    ts = d.get("ts", 0) / 1000.0
    if t0 + 1 <= ts <= t1 and isinstance(d.get(field), (int, float)):
        vals.append(d[field])
print("%.3f" % (sum(vals) / len(vals)) if vals else "")
PY
}
# domstat_window VM FIELD SECONDS: sets W_T0, W_T1 (epoch seconds) and W_RATE, the
# increase per second of a domstats counter over them; then waits for the agent's
# sample that closes the window.
domstat_window() {
    _a=$(kg_e2e_domstat "$1" "$2"); W_T0=$(date +%s.%N)
    sleep "$3"
    _b=$(kg_e2e_domstat "$1" "$2"); W_T1=$(date +%s.%N)
    W_RATE=$(awk -v a="$_a" -v b="$_b" -v ta="$W_T0" -v tb="$W_T1" 'BEGIN { if (a == "" || b == "") print ""; else printf "%.0f", (b - a) / (tb - ta) }')
    sleep 1.5
}
# trace_since MS: the running wall's trace lines for g1 at or after MS (epoch ms),
# as "green real_ms" (green channel of the tile's colour; viridis' green rises
# monotonically from cold 0x01 to hot 0xE7).
trace_since() {
    grep '^trace-tile .* colour ' "$KG_TMP/wall-running.log" | awk -v t="$1" '
        function hex(s) { return 16 * (index("0123456789ABCDEF", substr(s, 1, 1)) - 1) + index("0123456789ABCDEF", substr(s, 2, 1)) - 1 }
        $6 >= t { print hex(substr($4, 3, 2)), $6 }'
}
# tile_hot_since MS / tile_cold_since MS: the running wall showed g1's tile hot
# (green >= 75, cpu ~23 %) / cold (green < 50, cpu < ~14 %) at or after MS.
tile_hot_since() { trace_since "$1" | awk '$1 >= 75 { f = 1 } END { exit !f }'; }
tile_cold_since() { trace_since "$1" | awk '$1 < 50 { f = 1 } END { exit !f }'; }

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
    kg_assert_ge "$1: loaded VM's tile is hot" "$h" "$((c + 40))"
}

# Both VMs published with rates (the second sample on).
for g in "$g1" "$g2"; do
    kg_wait_for 60 field_at_least "$g" cpu_pct 0 && kg_pass "$g published with cpu_pct" || kg_die "$g: no cpu_pct from the agent within 60 s"
done
kg_wait_for 30 field_at_least "$g2" mem_used_kib 1 && kg_pass "$g2 published mem_used_kib" || kg_fail "$g2: no mem_used_kib (balloon stats)"
kg_wait_for 60 field_at_most "$g2" cpu_pct 20 && kg_pass "$g2 idle (cpu_pct $(vmf "$g2" cpu_pct) <= 20)" || kg_fail "$g2 not idle: cpu_pct $(vmf "$g2" cpu_pct)"
kg_wait_for 30 field_at_least "$g1" net_rx_bytes_per_s 0 && kg_pass "$g1 (tap) publishes network rates" || kg_fail "$g1: no net_rx_bytes_per_s though it has a tap"
mem1_idle=$(vmf "$g1" mem_used_kib)
mem2_idle=$(vmf "$g2" mem_used_kib)

# ---- CPU ----
since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }
cmd_ms=$(date +%s%3N)
load_cmd '{"schema":1,"cmd":"start","id":"e2e-cpu","kind":"cpu","pct":100,"workers":1,"duration_s":600}'
t_cmd=$(date +%s.%N)
# 2 shared cores: a busy vCPU under TCG gets 40-100 % of a core; idle is 2-5 %.
if kg_wait_for 90 field_at_least "$g1" cpu_pct 25; then
    kg_pass "$g1 cpu_pct rises after a CPU load command ($(since "$t_cmd") s, agent interval 1 s)"
else
    kg_fail "$g1 cpu_pct did not reach 25 (now $(vmf "$g1" cpu_pct))"
fi
# Load command to hot tile on the running wall (bench/e2e measures it in detail).
kg_wait_for 90 tile_hot_since "$cmd_ms" && kg_pass "running wall: tile hot $(since "$t_cmd") s after the load command" ||
    kg_fail "running wall: $g1's tile not hot within 90 s (trace: $(trace_since "$cmd_ms" | tail -n 3 | tr '\n' ' '))"
# Agreement with virsh domstats over the same seconds, up to 3 windows of 5 s (a
# genuine disagreement, e.g. a unit error, never agrees).
agreed=0
for try in 1 2 3; do
    domstat_window "$g1" cpu.time 5
    agent_pct=$(window_mean "$g1" cpu_pct "$W_T0" "$W_T1")
    other_pct=$(window_mean "$g2" cpu_pct "$W_T0" "$W_T1")
    virsh_pct=$(awk -v r="$W_RATE" 'BEGIN { printf "%.1f", r / 1e7 }')
    kg_log "cpu, window $try: agent $agent_pct % (mean), virsh domstats $virsh_pct %; $g2 $other_pct %"
    if [ -n "$agent_pct" ] && [ -n "$W_RATE" ] &&
        awk -v a="$agent_pct" -v b="$virsh_pct" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 15) }'; then
        agreed=1; break
    fi
done
[ $agreed -eq 1 ] && kg_pass "agent cpu_pct agrees with virsh domstats within 15 points ($agent_pct vs $virsh_pct)" ||
    kg_fail "agent cpu_pct $agent_pct vs virsh domstats $virsh_pct: more than 15 points apart in 3 windows"
kg_assert_ge "$g1 busy over the window (mean cpu_pct)" "$agent_pct" 25
kg_assert_le "$g2 stays idle during $g1's CPU load (mean cpu_pct)" "$other_pct" 20
shot cpu-busy cpu
hot_cold cpu-busy
stop_ms=$(date +%s%3N)
load_cmd '{"schema":1,"cmd":"stop","id":"e2e-cpu-stop"}'
kg_wait_for 90 field_at_most "$g1" cpu_pct 10 && kg_pass "$g1 cpu_pct back down after stop" || kg_fail "$g1 cpu_pct still $(vmf "$g1" cpu_pct) after stop"
kg_wait_for 30 tile_cold_since "$stop_ms" && kg_pass "running wall: tile cold again after stop" ||
    kg_fail "running wall: $g1's tile not cold after stop (trace: $(trace_since "$stop_ms" | tail -n 3 | tr '\n' ' '))"
shot cpu-idle cpu
h=$(green cpu-idle "$g1"); c=$(green cpu-idle "$g2")
kg_assert_le "after stop the tile is cold again (screenshot)" "$h" "$((c + 40))"

# ---- memory ----
load_cmd '{"schema":1,"cmd":"start","id":"e2e-mem","kind":"mem","mib":64,"duration_s":600}'
want=$(( ${mem1_idle:-0} + 40 * 1024 ))
kg_wait_for 60 field_at_least "$g1" mem_used_kib "$want" && kg_pass "$g1 mem_used_kib rises by 40+ MiB under a 64 MiB load" ||
    kg_fail "$g1 mem_used_kib $(vmf "$g1" mem_used_kib), wanted >= $want (idle $mem1_idle)"
m2=$(vmf "$g2" mem_used_kib)
kg_assert_le "$g2 memory unchanged (KiB difference)" "$(awk -v a="$m2" -v b="${mem2_idle:-0}" 'BEGIN { d = a - b; if (d < 0) d = -d; print d }')" 10240
# Agreement: the agent's "used" is the balloon's available minus usable (KiB), from
# the same balloon statistics (period 2 s): polled, as the agent's figure may be a
# second older than virsh's.
mem_agrees() {
    virsh_used=$(awk -v a="$(kg_e2e_domstat "$g1" balloon.available)" -v u="$(kg_e2e_domstat "$g1" balloon.usable)" \
        'BEGIN { if (a != "" && u != "") print a - u }')
    agent_used=$(vmf "$g1" mem_used_kib)
    [ -n "$agent_used" ] && [ -n "$virsh_used" ] && awk -v a="$agent_used" -v b="$virsh_used" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 8192) }'
}
if kg_wait_for 30 mem_agrees; then
    kg_pass "agent mem_used_kib agrees with virsh domstats within 8 MiB ($agent_used vs $virsh_used KiB)"
else
    kg_fail "agent mem_used_kib $(vmf "$g1" mem_used_kib) vs virsh domstats balloon available - usable: more than 8 MiB apart for 30 s"
fi
shot mem-busy mem
hot_cold mem-busy
load_cmd '{"schema":1,"cmd":"stop","id":"e2e-mem-stop"}'
kg_wait_for 60 field_at_most "$g1" mem_used_kib $(( ${mem1_idle:-0} + 16 * 1024 )) && kg_pass "$g1 memory released after stop" ||
    kg_fail "$g1 mem_used_kib $(vmf "$g1" mem_used_kib) after stop (idle $mem1_idle)"

# ---- disk ----
load_cmd '{"schema":1,"cmd":"start","id":"e2e-disk","kind":"disk","mode":"write","mb_per_s":4,"duration_s":600}'
kg_wait_for 60 field_at_least "$g1" disk_wr_bytes_per_s 2000000 && kg_pass "$g1 disk_wr_bytes_per_s rises under a 4 MB/s write load" ||
    kg_fail "$g1 disk_wr_bytes_per_s $(vmf "$g1" disk_wr_bytes_per_s)"
agreed=0
for try in 1 2 3; do
    domstat_window "$g1" block.0.wr.bytes 5
    agent_wr=$(window_mean "$g1" disk_wr_bytes_per_s "$W_T0" "$W_T1")
    other_wr=$(window_mean "$g2" disk_wr_bytes_per_s "$W_T0" "$W_T1")
    ratio=$(awk -v a="$agent_wr" -v b="$W_RATE" 'BEGIN { if (a == "" || b == "" || b <= 0) print 99; else printf "%.2f", a / b }')
    kg_log "disk writes, window $try: agent $agent_wr B/s (mean), virsh domstats $W_RATE B/s, ratio $ratio; $g2 $other_wr B/s"
    if awk -v r="$ratio" 'BEGIN { exit !(r >= 0.67 && r <= 1.5) }'; then agreed=1; break; fi
done
[ $agreed -eq 1 ] && kg_pass "agent disk writes agree with virsh domstats (ratio $ratio)" ||
    kg_fail "agent disk writes vs virsh domstats: ratio $ratio, outside 0.67-1.5 in 3 windows"
kg_assert_le "$g2 writes nothing meanwhile (mean B/s)" "$other_wr" 100000
shot disk-busy disk
hot_cold disk-busy
load_cmd '{"schema":1,"cmd":"stop","id":"e2e-disk-stop"}'
kg_wait_for 90 field_at_most "$g1" disk_wr_bytes_per_s 200000 && kg_pass "$g1 disk writes stop" || kg_fail "$g1 still writes $(vmf "$g1" disk_wr_bytes_per_s) B/s"

# ---- a guest goes away ----
kg_e2e_destroy "$g2"
gone() { [ -z "$(vmjson "$g2")" ]; }
kg_wait_for 30 gone && kg_pass "destroyed guest's retained topic removed" || kg_fail "kvmgrid/$hv/vm/$g2 still retained"
shot after-destroy cpu
kg_assert_not_contains "destroyed guest has no tile" "$(cat "$KG_TMP/after-destroy.txt")" "tile $hv $g2 "
kg_assert_contains "the other guest keeps its tile" "$(cat "$KG_TMP/after-destroy.txt")" "tile $hv $g1 "

kg_e2e_check_consoles
# A sanitizer build on a loaded host may take longer than kg_stop's 5 s to close
# its libvirt and MQTT sessions: wait for it before kg_stop would SIGKILL it.
kill -TERM "$AGENT_PID" 2>/dev/null
agent_gone() { ! kill -0 "$AGENT_PID" 2>/dev/null || [ "$(cut -d' ' -f3 "/proc/$AGENT_PID/stat" 2>/dev/null)" = Z ]; }
kg_wait_for 30 agent_gone || kg_log "agent still running 30 s after SIGTERM"
kg_stop "$AGENT_PID"
kg_assert_eq "agent exits 0 on SIGTERM" 0 "$KG_EXIT_STATUS"
kg_assert_eq "agent status offline" "kvmgrid/$hv/status offline" "$(kg_retained "kvmgrid/$hv/status")"
cp "$KG_TMP"/*.txt "$KG_TMP/layouts.log" 2>/dev/null || true
exit 0

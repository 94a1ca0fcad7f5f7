#!/bin/sh
# SPDX-License-Identifier: MIT
# The agent's balloon_period option on a real QEMU guest. The guest is
# defined without a balloon stats period (rig.sh boot --balloon-period 0), so QEMU
# never asks it for memory statistics: what libvirt reports is the one report the
# guest's virtio_balloon driver sent when it loaded, frozen.
#  a. The agent read-only (the default) publishes that frozen figure: mem_used_kib
#     equals virsh's balloon available - usable and does not move while the guest's
#     kvmgrid-load holds 64 MiB, nor does balloon.last-update; nothing set a period.
#  b. The agent with libvirt_read_only = false and balloon_period = 2 (config file)
#     sets the period: mem_used_kib turns live (the 64 MiB show), agrees with virsh
#     domstats, falls when the load stops and rises when it starts again.
#  c. The period is really set, live only: the running domain's XML has
#     <stats period='2'/>, the persistent one none, balloon.last-update advances;
#     it stays after the agent exits.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/e2e/lib-e2e.sh"
# AGENT, kg_agent_start (host hv1), kg_payload_matches
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
[ -n "$AGENT" ] || exit 1

g="kge2e-$$-bp"
VMT="kvmgrid/hv1/vm/$g"
MIB=1024

kg_broker_start
kg_e2e_up
# 192 MiB: room for a 64 MiB load by an ASan build of kvmgrid-load (agent_wall.sh).
kg_e2e_boot "$g" --mem 192 --balloon-period 0
kg_wait_for 180 kg_has_retained "kvmgrid/$g/load/state" || kg_die "$g: load generator not connected within 180 s"
kg_pass "guest's load generator is connected"
URI=$(. "$KG_RIG_DIR/rig.env"; echo "$KG_RIG_URI")

# period [--inactive]: the balloon stats period in the running (or persistent)
# domain XML, "" when it has none.
period() { "$KG_RIG" virsh dumpxml "$g" "$@" | sed -n "s/.*<stats period='\([0-9]*\)'.*/\1/p"; }
# vmf FIELD: FIELD of the agent's retained payload for the guest ("" when absent).
vmf() { kg_json_get "$(kg_retained_payload "$VMT")" "d.get('$1', '')" 2>/dev/null; }
# virsh_used: the guest's used memory by libvirt, balloon available - usable (KiB).
virsh_used() {
    awk -v a="$(kg_e2e_domstat "$g" balloon.available)" -v u="$(kg_e2e_domstat "$g" balloon.usable)" \
        'BEGIN { if (a != "" && u != "") print a - u }'
}
load_cmd() { kg_pub "kvmgrid/$g/load/cmd" "$1" -q 1 || kg_fail "publish load command"; }
mem_load() { load_cmd '{"schema":1,"cmd":"start","id":"bp-mem","kind":"mem","mib":64,"duration_s":600}'; }
resident() { kg_payload_matches "kvmgrid/$g/load/state" "d.get('status') == 'running' and d.get('mem_resident_mib', 0) >= 64"; }
idle() { kg_payload_matches "kvmgrid/$g/load/state" "d.get('status') == 'idle'"; }
used_at_least() { v=$(vmf mem_used_kib); [ -n "$v" ] && [ "$v" -ge "$1" ]; }
used_at_most() { v=$(vmf mem_used_kib); [ -n "$v" ] && [ "$v" -le "$1" ]; }
# agent_exit PID: SIGTERM, then up to 30 s for a sanitizer build to close its
# sessions before kg_stop's SIGKILL; asserts exit status 0.
agent_exit() {
    kill -TERM "$1" 2>/dev/null
    kg_wait_for 30 sh -c '[ "$(cut -d" " -f3 /proc/$1/stat 2>/dev/null)" = Z ] || ! kill -0 "$1" 2>/dev/null' sh "$1" ||
        kg_log "agent $1 still running 30 s after SIGTERM"
    kg_stop "$1"
    kg_assert_eq "agent exits 0 on SIGTERM" 0 "$KG_EXIT_STATUS"
}
since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { printf "%.1f", a - b }'; }

# Every sample the agents publish for the guest, with its arrival time.
kg_spawn msglog "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t "$VMT" -F '%U %p'
# window_values FIELD T0 T1: FIELD of every sample taken (its "ts") within [T0, T1]
# (epoch seconds), space-separated.
window_values() {
    python3 - "$KG_TMP/msglog.log" "$1" "$2" "$3" <<'PY'
import json, sys
log, field, t0, t1 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
out = []
for line in open(log, errors="replace"):
    try:
        d = json.loads(line.split(" ", 1)[1])
    except (IndexError, ValueError):
        continue
    if t0 <= d.get("ts", 0) / 1000.0 <= t1:
        out.append(str(d.get(field, "absent")))
print(" ".join(out))
PY
}

# ---- a: read-only, no period ----
kg_assert_eq "domain defined without a balloon stats period (live XML)" "" "$(period)"
kg_agent_start agent-ro --libvirt-uri "$URI" --interval 1s
RO_PID=$AGENT_PID
kg_wait_for 60 kg_payload_matches "$VMT" "'cpu_pct' in d" || kg_die "no sample with cpu_pct from the read-only agent within 60 s"
frozen=$(vmf mem_used_kib)
frozen_virsh=$(virsh_used)
last0=$(kg_e2e_domstat "$g" balloon.last-update)
kg_log "read-only: mem_used_kib $frozen, virsh available - usable $frozen_virsh, balloon.last-update $last0 (now $(date +%s))"
# The guest driver's report at load time is all there is: the agent publishes it.
kg_assert_eq "read-only agent publishes the guest's boot-time report (mem_used_kib = virsh available - usable)" "$frozen_virsh" "$frozen"
mem_load
kg_wait_for 60 resident || kg_die "the 64 MiB memory load is not resident within 60 s"
kg_pass "64 MiB memory load resident in the guest"
# Three would-be periods of 2 s with the load resident: nothing moves.
w0=$(date +%s.%N); sleep 6; w1=$(date +%s.%N)
vals=$(window_values mem_used_kib "$w0" "$w1")
kg_log "read-only, load resident: mem_used_kib of the samples over 6 s: $vals"
kg_assert_ge "samples over the 6 s window" "$(echo "$vals" | wc -w)" 4
kg_assert_eq "mem_used_kib frozen at the boot-time report under a 64 MiB load" "$frozen" "$(echo "$vals" | tr ' ' '\n' | sort -u | tr '\n' ' ' | sed 's/ $//')"
kg_assert_eq "balloon.last-update does not move without a period" "$last0" "$(kg_e2e_domstat "$g" balloon.last-update)"
kg_assert_eq "virsh available - usable does not move without a period" "$frozen_virsh" "$(virsh_used)"
agent_exit "$RO_PID"
kg_assert_eq "the read-only agent set no period" "" "$(period)"

# ---- b: read-write with balloon_period = 2 ----
cat > "$KG_TMP/agent-rw.conf" <<EOF
libvirt_read_only = false
balloon_period = 2
EOF
t_rw=$(date +%s.%N)
kg_agent_start agent-rw --config "$KG_TMP/agent-rw.conf" --libvirt-uri "$URI" --interval 1s
RW_PID=$AGENT_PID
period_is_2() { [ "$(period)" = 2 ]; }
kg_wait_for 30 period_is_2 && kg_pass "read-write agent set the period ($(since "$t_rw") s after its start)" ||
    kg_fail "live XML period '$(period)' 30 s after the read-write agent started"
last_moved() { l=$(kg_e2e_domstat "$g" balloon.last-update); [ -n "$l" ] && [ "$l" -gt "$last0" ]; }
kg_wait_for 30 last_moved && kg_pass "balloon.last-update moves ($(since "$t_rw") s after the agent's start)" ||
    kg_fail "balloon.last-update still $last0"
loaded_min=$((frozen + 40 * MIB))
kg_wait_for 30 used_at_least "$loaded_min" &&
    kg_pass "mem_used_kib live: $(vmf mem_used_kib) KiB with the 64 MiB load ($(since "$t_rw") s after the agent's start; read-only it was $frozen)" ||
    kg_fail "mem_used_kib $(vmf mem_used_kib), wanted >= $loaded_min with the 64 MiB load resident"
# Agreement: the same balloon statistics, polled, as the agent's figure may be a
# period older than virsh's.
mem_agrees() {
    agent_used=$(vmf mem_used_kib); virsh_now=$(virsh_used)
    [ -n "$agent_used" ] && [ -n "$virsh_now" ] && awk -v a="$agent_used" -v b="$virsh_now" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 8192) }'
}
kg_wait_for 30 mem_agrees && kg_pass "mem_used_kib agrees with virsh domstats within 8 MiB ($agent_used vs $virsh_now KiB)" ||
    kg_fail "mem_used_kib $(vmf mem_used_kib) vs virsh available - usable $(virsh_used): more than 8 MiB apart for 30 s"
loaded=$(vmf mem_used_kib)
load_cmd '{"schema":1,"cmd":"stop","id":"bp-mem-stop"}'
kg_wait_for 30 idle || kg_fail "load generator not idle after stop"
t_stop=$(date +%s.%N)
kg_wait_for 30 used_at_most $((loaded - 40 * MIB)) &&
    kg_pass "mem_used_kib falls to $(vmf mem_used_kib) KiB when the load stops ($(since "$t_stop") s)" ||
    kg_fail "mem_used_kib $(vmf mem_used_kib) after the load stopped (loaded $loaded)"
released=$(vmf mem_used_kib)
mem_load
kg_wait_for 60 resident || kg_fail "the 64 MiB memory load is not resident again within 60 s"
t_load=$(date +%s.%N)
kg_wait_for 30 used_at_least $((released + 40 * MIB)) &&
    kg_pass "mem_used_kib rises to $(vmf mem_used_kib) KiB when the guest allocates 64 MiB again ($(since "$t_load") s after it is resident)" ||
    kg_fail "mem_used_kib $(vmf mem_used_kib), wanted >= $((released + 40 * MIB))"
kg_wait_for 30 mem_agrees && kg_pass "mem_used_kib agrees with virsh domstats under load ($agent_used vs $virsh_now KiB)" ||
    kg_fail "mem_used_kib $(vmf mem_used_kib) vs virsh $(virsh_used) under load"

# ---- c: the period is set on the running domain only ----
kg_assert_eq "live XML has the period" 2 "$(period)"
kg_assert_eq "persistent XML has no period (set live only)" "" "$(period --inactive)"
l1=$(kg_e2e_domstat "$g" balloon.last-update)
advanced() { l=$("$KG_RIG" virsh dommemstat "$g" | awk '$1 == "last_update" { print $2 }'); [ -n "$l" ] && [ "$l" -gt "$l1" ]; }
kg_wait_for 10 advanced && kg_pass "virsh dommemstat's last_update advances (period 2 s)" || kg_fail "last_update still $l1 after 10 s"
agent_exit "$RW_PID"
kg_assert_eq "the period outlives the agent (until the domain restarts)" 2 "$(period)"
l2=$(kg_e2e_domstat "$g" balloon.last-update)
l1=$l2
kg_wait_for 10 advanced && kg_pass "statistics still refreshed after the agent exited" || kg_fail "last_update still $l2 after the agent exited"

# ---- d: a restart between two samples gets the period again ----
# The period lives in the QEMU process. The agent sets it once per process (by
# domain ID), also when a destroy + start falls between two of its samples.
kg_agent_start agent-rw2 --config "$KG_TMP/agent-rw.conf" --libvirt-uri "$URI" --interval 5s
RW_PID=$AGENT_PID
kg_wait_for 15 grep -q 'libvirt connected' "$KG_TMP/agent-rw2.log" || kg_fail "agent-rw2 never connected"
sleep 1 # its first sample (taken at once) has seen the running process
id0=$("$KG_RIG" virsh domid "$g")
"$KG_RIG" virsh destroy "$g" >/dev/null && "$KG_RIG" virsh start "$g" >/dev/null ||
    kg_fail "could not restart $g"
id1=$("$KG_RIG" virsh domid "$g")
kg_log "restarted $g: domain id $id0 -> $id1"
t_re=$(date +%s.%N)
kg_wait_for 20 period_is_2 && kg_pass "period set again on the restarted guest ($(since "$t_re") s after its start)" ||
    kg_fail "restarted guest has period '$(period)' 20 s after its start"
agent_exit "$RW_PID"

kg_e2e_check_consoles
exit 0

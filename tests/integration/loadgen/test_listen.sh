#!/bin/sh
# SPDX-License-Identifier: MIT
# kvmgrid-load --listen over a real mosquitto: commands sent with mosquitto_pub
# start and stop loads (checked in /proc, not only in the state), the retained
# state tells the truth (running, idle, rejections with their reason), the will
# says offline after SIGKILL, and no disk file survives SIGTERM.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

LOAD=$(kg_bin kvmgrid-load)
NODE=n1
CMD=kvmgrid/$NODE/load/cmd
STATE_T=kvmgrid/$NODE/load/state
DISK=$KG_TMP/disk
mkdir -p "$DISK"

kg_broker_start

state() { kg_retained "$STATE_T" 1; }
state_has() { state | grep -q -- "$1"; }
wait_state() { kg_wait_for "${2:-10}" state_has "$1" || kg_fail "state never had [$1]; last: $(state)"; }
send() { kg_pub "$CMD" "$1" -q 1; }
files_in_disk() { find "$DISK" -type f | wc -l; }

# CPU ticks (utime+stime) of a process, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# CPU % of one core used by PID over SECONDS
cpu_pct() {
    t0=$(cpu_ticks "$1"); s0=$(date +%s.%N); sleep "$2"
    t1=$(cpu_ticks "$1"); s1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { printf "%.0f", (b - a) / hz / (e - s) * 100 }'
}

# scenarios by name come from this directory only
SCEN=$KG_TMP/scenarios
mkdir -p "$SCEN"
cp "$KG_SOURCE_DIR/loadgen/scenarios/cpu-ramp.json" "$SCEN/"
cat >"$SCEN/quick.json" <<'JSON'
{"name": "quick", "steps": [
  {"loads": [{"kind": "cpu", "workers": 1, "pct": 20, "duration_s": 1.5}]},
  {"loads": [{"kind": "mem", "mib": 16, "duration_s": 1.5}]}
]}
JSON

listen() {
    kg_spawn "listen$1" "$LOAD" --listen --broker "$KG_BROKER_URI" --node "$NODE" \
        --dir "$DISK" --max-mib 256 --max-workers 2 --state-interval 500ms --log-level debug \
        --scenario-dir "$SCEN"
    LPID=$KG_LAST_PID
}

listen 1
wait_state '"status":"idle"'
kg_pass "idle state published at start"

# --- a CPU load: the state says running and the process really burns ~30 %
send '{"schema":1,"cmd":"start","id":"c1","kind":"cpu","workers":1,"pct":30,"duration_s":60}'
wait_state '"id":"c1"'
wait_state '"cpu_pct":'
s=$(state)
kg_assert_contains "running state" "$s" '"status":"running"'
kg_assert_contains "state echoes the load" "$s" '"kind":"cpu"'
pct=$(cpu_pct "$LPID" 3)
kg_log "listener used $pct % CPU for a 30 % load"
if [ "$pct" -ge 15 ] && [ "$pct" -le 50 ]; then kg_pass "cpu load ~30 % ($pct)"; else kg_fail "cpu load not ~30 %: $pct"; fi

# --- stop ends it at once
send '{"schema":1,"cmd":"stop","id":"s1"}'
wait_state '"status":"idle"' 3
pct=$(cpu_pct "$LPID" 1)
if [ "$pct" -le 8 ]; then kg_pass "stopped: CPU back to $pct %"; else kg_fail "CPU still $pct % after stop"; fi

# --- rejections: published with the reason, nothing runs
send '{"schema":1,"cmd":"start","id":"big","kind":"mem","mib":4096,"duration_s":5}'
wait_state '"last_reject_id":"big"'
s=$(state)
kg_assert_contains "over-cap reason" "$s" 'max_mib'
kg_assert_contains "over-cap not run" "$s" '"status":"idle"'

send '{"schema":1,"cmd":"start","id":"w","kind":"cpu","workers":3,"pct":10}'
wait_state 'max_workers'

send '{not json'
wait_state 'malformed command'

send '{"schema":1,"cmd":"start","id":"gpu","kind":"gpu","pct":5}'
wait_state 'unknown value'
kg_assert_contains "unknown kind named" "$(state)" 'kind'

big=$(head -c 20000 /dev/zero | tr '\0' 'x')
send "{\"schema\":1,\"cmd\":\"start\",\"id\":\"$big\"}"
wait_state 'oversized command: 200'

send '{"schema":1,"cmd":"scenario","id":"sc","scenario":"../../etc/passwd"}'
wait_state 'malformed command\|invalid'
kg_assert_contains "path-like scenario refused" "$(state)" '"status":"idle"'

# --- a shipped scenario by name, then status
send '{"schema":1,"cmd":"scenario","id":"ramp","scenario":"cpu-ramp"}'
wait_state '"scenario":"cpu-ramp"'
s=$(state)
kg_assert_contains "scenario progress" "$s" '"steps":3'
send '{"schema":1,"cmd":"stop"}'
wait_state '"status":"idle"' 3

# --- a scenario walks its steps, then goes idle by itself
send '{"schema":1,"cmd":"scenario","id":"q","scenario":"quick"}'
wait_state '"step":1,"steps":2'
wait_state '"step":2,"steps":2' 5
kg_assert_contains "step 2 runs the memory load" "$(state)" '"kind":"mem"'
wait_state '"status":"idle"' 5
send '{"schema":1,"cmd":"scenario","id":"nf","scenario":"mixed"}'
wait_state 'no shipped scenario named'

# --- memory: resident in the process while running, released on stop
rss() { echo $(($(kg_rss_kib "$LPID") / 1024)); }
# MiB resident in the load's own mapping (128 MiB = 131072 kB), from smaps: exact,
# whatever else the process allocates meanwhile (AddressSanitizer's quarantine
# alone grows by megabytes)
load_rss() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / {size = 0} /^Size:/ {size = $2}
         /^Rss:/ && size == 131072 && $2 > best {best = $2} END {print int(best / 1024)}' \
        "/proc/$LPID/smaps"
}
r0=$(rss)
send '{"schema":1,"cmd":"start","id":"m1","kind":"mem","mib":128,"duration_s":60}'
wait_state '"mem_resident_mib":12[78]'
r1=$(rss)
kg_log "listener RSS $r0 -> $r1 MiB for a 128 MiB load; the load's mapping: $(load_rss) MiB resident"
kg_assert_eq "the load's 128 MiB mapping is all resident" 128 "$(load_rss)"
if [ $((r1 - r0)) -ge 120 ]; then kg_pass "the process grew by the load"; else kg_fail "RSS grew by $((r1 - r0)) MiB"; fi
send '{"schema":1,"cmd":"stop"}'
wait_state '"status":"idle"' 3
r2=$(rss)
if [ $((r1 - r2)) -ge 120 ]; then kg_pass "memory released ($r2 MiB)"; else kg_fail "RSS still $r2 MiB"; fi

# --- a load that ends by itself goes back to idle
send '{"schema":1,"cmd":"start","id":"short","kind":"cpu","workers":1,"pct":10,"duration_s":1}'
wait_state '"id":"short"'
wait_state '"status":"idle"' 5

# --- disk: file only while running; SIGTERM removes it and leaves "offline"
send '{"schema":1,"cmd":"start","id":"d1","kind":"disk","mode":"write","mb_per_s":4,"block_kib":256,"duration_s":60}'
wait_state '"disk_wr_mb_per_s":'
kg_assert_eq "one file while writing" 1 "$(files_in_disk)"
kg_stop "$LPID" TERM
kg_assert_eq "clean exit on SIGTERM" 0 "$KG_EXIT_STATUS"
kg_assert_eq "no file after SIGTERM" 0 "$(files_in_disk)"
kg_assert_contains "offline after a clean exit" "$(state)" '"status":"offline"'

# --- SIGKILL: the will says offline; the orphaned file is swept at the next start
listen 2
wait_state '"status":"idle"'
send '{"schema":1,"cmd":"start","id":"d2","kind":"disk","mode":"write","mb_per_s":4,"block_kib":256,"duration_s":60}'
wait_state '"id":"d2"'
kill -KILL "$LPID"; wait "$LPID" 2>/dev/null
wait_state '"status":"offline"' 60
kg_pass "will published after SIGKILL"
kg_assert_eq "SIGKILL leaves the file" 1 "$(files_in_disk)"
# --- a command published retained never runs, whether it was on the broker before
# the listener subscribed or arrived while it listened (the broker would clear the
# retain flag of a live message but for the listener's retain-as-published
# subscription). Where the role may, the listener clears it from the broker.
cmd_retained() { kg_retained "$CMD" 1; }
kg_pub "$CMD" '{"schema":1,"cmd":"start","id":"ret","kind":"cpu","pct":50}' -r -q 1
listen 3
wait_state 'retained command ignored.*cleared it from the broker'
s=$(state)
kg_assert_contains "retained command (before subscribe) not run" "$s" '"status":"idle"'
kg_assert_contains "its id is in the rejection" "$s" '"last_reject_id":"ret"'
kg_assert_eq "retained command cleared from the broker" "" "$(cmd_retained)"
kg_assert_eq "stale file swept at start" 0 "$(files_in_disk)"
kg_pub "$CMD" '{"schema":1,"cmd":"start","id":"ret-live","kind":"cpu","workers":1,"pct":50,"duration_s":30}' -r -q 1
wait_state '"last_reject_id":"ret-live"'
wait_state 'retained command ignored.*cleared it from the broker'
kg_assert_contains "retained command (live) not run" "$(state)" '"status":"idle"'
kg_assert_eq "live retained command cleared from the broker" "" "$(cmd_retained)"
# the clear itself (an empty retained message) is not a command: no new rejection
send '{"schema":1,"cmd":"status"}'
sleep 0.5
kg_assert_contains "nothing rejected since" "$(state)" '"last_reject_id":"ret-live"'

# --- --send validates locally, then publishes
out=$("$LOAD" --broker "$KG_BROKER_URI" --send "$NODE" '{"schema":1,"cmd":"start","id":"via-send","kind":"cpu","workers":1,"pct":5,"duration_s":30}' 2>&1)
kg_assert_eq "--send exit status" 0 $?
wait_state '"id":"via-send"'
"$LOAD" --broker "$KG_BROKER_URI" --send "$NODE" '{"schema":1,"cmd":"start","kind":"cpu"}' >/dev/null 2>&1
kg_assert_eq "--send refuses an invalid command" 2 $?
"$LOAD" --broker "$KG_BROKER_URI" --send "$NODE" '{"schema":1,"cmd":"stop"}' >/dev/null 2>&1
wait_state '"status":"idle"' 3
kg_stop "$LPID" TERM
kg_assert_eq "clean exit" 0 "$KG_EXIT_STATUS"

# --- with the production roles (broker-config/production.acl: a load generator
# reads its cmd and writes its state, nothing else) the listener may not clear a
# retained command: it still refuses it and says in its state that the clear was
# refused (MQTT 5 tells a refused publish apart; 3.1.1 acknowledges it silently)
kg_broker_stop
command -v mosquitto_passwd >/dev/null || kg_die "mosquitto_passwd missing (package mosquitto)"
mosquitto_passwd -c -b "$KG_TMP/passwd" op op-secret
mosquitto_passwd -b "$KG_TMP/passwd" "load@$NODE" load-secret
cat >"$KG_TMP/acl" <<ACL
user op
topic readwrite kvmgrid/#
user load@$NODE
topic read $CMD
topic write $STATE_T
ACL
# user root: the files lie in this test's private directory
printf 'allow_anonymous false\npassword_file %s\nacl_file %s\nuser root\n' "$KG_TMP/passwd" "$KG_TMP/acl" >"$KG_TMP/roles.conf"
kg_broker_start "$KG_TMP/roles.conf"
printf 'load-secret\n' >"$KG_TMP/load.pass"
chmod 600 "$KG_TMP/load.pass"
printf 'username = load@%s\npassword_file = %s\n' "$NODE" "$KG_TMP/load.pass" >"$KG_TMP/load.conf"
state() { "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -u op -P op-secret -t "$STATE_T" -v --retained-only -W 1 2>/dev/null; return 0; }
kg_pub "$CMD" '{"schema":1,"cmd":"start","id":"ret-acl","kind":"cpu","pct":50}' -r -q 1 -u op -P op-secret
kg_spawn listen4 "$LOAD" --listen --config "$KG_TMP/load.conf" --broker "$KG_BROKER_URI" --node "$NODE" \
    --dir "$DISK" --log-level debug
LPID=$KG_LAST_PID
wait_state 'could not clear it from the broker: refused (reason 0x87, not authorized)'
s=$(state)
kg_assert_contains "retained command (role without write) not run" "$s" '"status":"idle"'
kg_assert_contains "its id is in the rejection" "$s" '"last_reject_id":"ret-acl"'
left=$("$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -u op -P op-secret -t "$CMD" --retained-only -W 1 2>/dev/null || true)
kg_assert_contains "the retained command is still on the broker" "$left" '"id":"ret-acl"'
kg_stop "$LPID" TERM
kg_assert_eq "clean exit" 0 "$KG_EXIT_STATUS"

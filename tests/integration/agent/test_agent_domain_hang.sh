#!/bin/sh
# SPDX-License-Identifier: MIT
# One domain whose libvirt call hangs must not stop the others: a domain whose
# stats do not come back in time is published as stale with its age, and the
# others keep updating. An LD_PRELOAD shim (lvhang.c, argument 1)
# makes virDomainBlockStats hang for one test-driver domain while a file exists.
#   1. web+1 hangs: it goes stale with a growing age; db#2 and the host keep
#      being published fresh (libvirt_ok stays true); the log names web+1.
#   2. The hang ends: web+1 is fresh again and the retired thread is gone.
#   3. Every domain hangs: after the most threads it may leave stuck, the host
#      is published as hung (libvirt_ok=false, every VM stale); when the hang
#      ends everything is fresh and the threads are back to their number.
#   4. SIGTERM while threads are stuck: "offline" and exit 0 without waiting
#      for them.
# Every condition is waited for with the same generous deadline, $W: on a 2-core
# machine shared with QEMU guests one poll (mosquitto_sub, then python) can take
# seconds, so a deadline of a few cycles is a few polls. Passing runs never
# wait that long; it only bounds a failing one.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
SHIM=${1:?usage: test_agent_domain_hang.sh LVHANG_SO}
[ -f "$SHIM" ] || kg_die "no shim $SHIM"
P=kvmgrid/hv1
WEB="$P/vm/web%2B1"
DB="$P/vm/db%232"
HANG="$KG_TMP/hang"
W=60

# a sanitizer runtime must come first in LD_PRELOAD
PRELOAD="$(ldd "$AGENT" | awk '/lib(asan|ubsan)\.so/ { printf "%s ", $3 }')$SHIM"
# hang_agent LOGNAME DOMAIN: the agent with the shim, hanging DOMAIN's calls
hang_agent() {
    kg_spawn "$1" env KG_HANG_FILE="$HANG" KG_HANG_DOMAIN="$2" LD_PRELOAD="$PRELOAD" \
        "$AGENT" --broker "$KG_BROKER_URI" --host hv1 --proc-root "" \
        --libvirt-uri "test://$NODE_XML" --interval 1s --log-level debug
    AGENT_PID=$KG_LAST_PID
}
kg_broker_start
hang_agent agent 'web+1'
kg_wait_for $W kg_payload_matches "$WEB" "d['stale']==False and d.get('cpu_pct') is not None" \
    || kg_die "agent never published web+1 fresh"
threads0=$(ls "/proc/$AGENT_PID/task" | wc -l)

# ts of TOPIC's retained payload
ts_of() { kg_json_get "$(kg_retained_payload "$1")" "d['ts']"; }
# fresh_and_moving TOPIC: fresh, and its ts moves past the current one
fresh_and_moving() {
    _t=$(ts_of "$1")
    kg_wait_for $W kg_payload_matches "$1" "d['stale']==False and d['ts']>$_t"
}

# 1. one domain hangs
touch "$HANG"
kg_wait_for $W kg_payload_matches "$WEB" "d['stale']==True and d['age_s']>=1" \
    && kg_pass "hung domain web+1 published stale with its age" || kg_fail "web+1 not stale"
fresh_and_moving "$DB" && kg_pass "db#2 keeps updating while web+1 hangs" \
    || kg_fail "db#2 stopped updating while web+1 hangs"
ts=$(ts_of "$P/metrics")
kg_wait_for $W kg_payload_matches "$P/metrics" "d['libvirt_ok']==True and d['ts']>$ts" \
    && kg_pass "host keeps updating with libvirt_ok=true" || kg_fail "host not fresh while one VM hangs"
age1=$(kg_json_get "$(kg_retained_payload "$WEB")" "d['age_s']")
kg_wait_for $W kg_payload_matches "$WEB" "d['stale']==True and d['age_s']>$age1" \
    && kg_pass "web+1's age grows ($age1 s and on)" || kg_fail "web+1's age does not grow"
fresh_and_moving "$DB" && kg_pass "db#2 still updating" || kg_fail "db#2 stopped updating"
kg_assert_contains "the log names the hung VM" "$(cat "$KG_TMP/agent.log")" "from VM 'web+1'"

# 2. the hang ends
rm -f "$HANG"
kg_wait_for $W kg_payload_matches "$WEB" "d['stale']==False" \
    && kg_pass "web+1 fresh again after its call returned" || kg_fail "web+1 still stale"
# (-le: a thread that only lives while the MQTT session connects may have been
# counted in threads0)
kg_wait_for $W sh -c "[ \$(ls /proc/$AGENT_PID/task | wc -l) -le $threads0 ]" \
    && kg_pass "retired thread ended ($threads0 threads or fewer)" \
    || kg_fail "threads: $(ls "/proc/$AGENT_PID/task" | wc -l), were $threads0"

# 3. every domain hangs: at most LVWORKER_MAX_STUCK (4) threads are left stuck
kg_stop "$AGENT_PID"
hang_agent agent2 '*'
cycles_ok() { [ "$(grep -c 'cycle: libvirt ok' "$KG_TMP/agent2.log")" -ge "$1" ]; }
replaced() { grep -c "reading the others on a new connection" "$KG_TMP/agent2.log"; }
kg_wait_for $W cycles_ok 2 || kg_die "second agent never read libvirt"
threads0=$(ls "/proc/$AGENT_PID/task" | wc -l)
touch "$HANG"
kg_wait_for $W sh -c "[ \$(grep -c 'reading the others on a new connection' '$KG_TMP/agent2.log') -ge 4 ]" \
    || kg_fail "fewer than 4 new collector threads with every domain hanging: $(replaced)"
kg_wait_for $W kg_payload_matches "$P/metrics" "d['libvirt_ok']==False" \
    && kg_pass "every domain hanging: host published hung ($(kg_json_get "$(kg_retained_payload "$P/metrics")" "d['libvirt_error']"))" \
    || kg_fail "host not published hung with every domain hanging"
kg_wait_for $W kg_payload_matches "$DB" "d['stale']==True" && kg_pass "db#2 stale" || kg_fail "db#2 not stale"
sleep 4 # two more hung cycles: no more threads are started
kg_assert_eq "new collector threads started, then no more" 4 "$(replaced)"
stuck_threads=$(ls "/proc/$AGENT_PID/task" | wc -l)
rm -f "$HANG"
kg_wait_for $W kg_payload_matches "$P/metrics" "d['libvirt_ok']==True" \
    && kg_pass "hang over: libvirt_ok=true" || kg_fail "libvirt_ok not back"
# The answer to the request that was pending through the hang leaves out (stale)
# the domains the retired threads were stuck on when it was taken up; they are
# read again from the next request on. So one of web+1 and db#2 may be fresh a
# cycle before the other: both are waited for together.
vms_fresh() {
    kg_payload_matches "$WEB" "d['stale']==False" && kg_payload_matches "$DB" "d['stale']==False"
}
kg_wait_for $W vms_fresh && kg_pass "VMs fresh again" \
    || kg_fail "VMs still stale: web+1 $(kg_retained_payload "$WEB"); db#2 $(kg_retained_payload "$DB")"
kg_wait_for $W sh -c "[ \$(ls /proc/$AGENT_PID/task | wc -l) -le $threads0 ]" \
    && kg_pass "every retired thread ended" \
    || kg_fail "threads: $(ls "/proc/$AGENT_PID/task" | wc -l), were $threads0"
# stuck: the first collector thread and 3 more retired, the 4th new one stuck too
kg_assert_eq "collector threads more while stuck than after" 4 \
    $((stuck_threads - $(ls "/proc/$AGENT_PID/task" | wc -l)))

# 4. SIGTERM with threads stuck. Counted from here: when the hang above ended,
# the retired threads may have ended before the current one's answer came, and
# a cycle due in between retires that one too (a 5th line, with nothing stuck).
replaced_more() { [ "$(replaced)" -gt "$1" ]; }
before=$(replaced)
touch "$HANG"
kg_wait_for $W replaced_more "$before" || kg_fail "no thread retired on the second hang"
kg_agent_term_while_hung "threads stuck"
kg_assert_contains "the log says libvirt calls were left hanging" \
    "$(cat "$KG_TMP/agent2.log")" "exiting without waiting"
rm -f "$HANG"

#!/bin/sh
# SPDX-License-Identifier: MIT
# One real guest whose QEMU stops answering (SIGSTOP: its monitor hangs, as with
# storage that blocks QEMU's main loop) must not stop the agent reading the
# others. The agent's bulk call takes the stopped guest's job and
# waits for its monitor; after 2 s the agent reads on a new connection, whose
# NOWAIT bulk call skips the busy guest.
#   - the stopped guest is published stale with a growing age_s;
#   - the other guest and the host keep updating, libvirt_ok stays true;
#   - after SIGCONT the guest is fresh again and the retired thread has ended.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/e2e/lib-e2e.sh"
# AGENT, kg_agent_start (host hv1), kg_payload_matches
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
[ -n "$AGENT" ] || exit 1

g1="kge2e-$$-h1"
g2="kge2e-$$-h2"
P=kvmgrid/hv1
QEMU_PID=""
# a test that ends while the guest is stopped lets it go on before the teardown
kg_e2e_hang_cleanup() {
    _hrc=$?
    [ -n "$QEMU_PID" ] && kill -CONT "$QEMU_PID" 2>/dev/null
    (exit $_hrc)
    kg_e2e_cleanup
}

kg_broker_start
kg_e2e_up
trap kg_e2e_hang_cleanup EXIT
kg_e2e_boot "$g1" --mem 128
kg_e2e_boot "$g2" --mem 128
for g in "$g1" "$g2"; do
    kg_wait_for 180 kg_has_retained "kvmgrid/$g/load/state" || kg_die "$g did not boot within 180 s"
done
URI=$(. "$KG_RIG_DIR/rig.env"; echo "$KG_RIG_URI")
kg_agent_start agent --libvirt-uri "$URI" --interval 1s --log-level debug
for g in "$g1" "$g2"; do
    kg_wait_for 30 kg_payload_matches "$P/vm/$g" "d['stale']==False and d.get('mem_rss_kib') is not None" \
        || kg_die "agent never published $g fresh with its RSS"
done
kg_assert_contains "the agent reads on the bulk path" "$(kg_json_get "$(kg_retained_payload "$P/metrics")" "d['collect_path']")" bulk
threads0=$(ls "/proc/$AGENT_PID/task" | wc -l)
QEMU_PID=$(pgrep -f "guest=$g1," | head -n 1)
[ -n "$QEMU_PID" ] || kg_die "no QEMU process for $g1"

ts_of() { kg_json_get "$(kg_retained_payload "$1")" "d['ts']"; }
moving() { _t=$(ts_of "$1"); kg_wait_for 5 kg_payload_matches "$1" "d['ts']>$_t and $2"; }

kill -STOP "$QEMU_PID"
kg_log "QEMU of $g1 ($QEMU_PID) stopped at $(date +%T.%N)"
kg_wait_for 15 kg_payload_matches "$P/vm/$g1" "d['stale']==True and d['age_s']>=1" \
    && kg_pass "stopped guest published stale ($(kg_json_get "$(kg_retained_payload "$P/vm/$g1")" "d['age_s']") s)" \
    || kg_fail "stopped guest not published stale"
moving "$P/vm/$g2" "d['stale']==False" && kg_pass "the other guest keeps updating" \
    || kg_fail "the other guest stopped updating"
moving "$P/metrics" "d['libvirt_ok']==True" && kg_pass "host keeps updating, libvirt_ok=true" \
    || kg_fail "host not fresh while one guest hangs"
age1=$(kg_json_get "$(kg_retained_payload "$P/vm/$g1")" "d['age_s']")
kg_wait_for 5 kg_payload_matches "$P/vm/$g1" "d['stale']==True and d['age_s']>$age1" \
    && kg_pass "its age grows ($age1 s and on)" || kg_fail "its age does not grow"
moving "$P/vm/$g2" "d['stale']==False" && kg_pass "the other guest still updating" \
    || kg_fail "the other guest stopped updating"
kg_assert_contains "the log tells" "$(cat "$KG_TMP/agent.log")" "reading the others on a new connection"

kill -CONT "$QEMU_PID"
kg_log "QEMU of $g1 continued at $(date +%T.%N)"
QEMU_PID=""
kg_wait_for 15 kg_payload_matches "$P/vm/$g1" "d['stale']==False" \
    && kg_pass "guest fresh again after SIGCONT" || kg_fail "guest still stale after SIGCONT"
kg_wait_for 15 sh -c "[ \$(ls /proc/$AGENT_PID/task | wc -l) -eq $threads0 ]" \
    && kg_pass "retired thread ended ($threads0 threads)" \
    || kg_fail "threads: $(ls "/proc/$AGENT_PID/task" | wc -l), were $threads0"
grep -E "warn|answers again" "$KG_TMP/agent.log" >&2
kg_stop "$AGENT_PID"
kg_assert_eq "agent exits 0" 0 "$KG_EXIT_STATUS"
kg_e2e_check_consoles
exit 0

#!/bin/sh
# SPDX-License-Identifier: MIT
# A libvirtd that hangs (SIGSTOP: its socket still accepts, nothing answers) must
# not hang the agent: every libvirt call runs on the collector thread, and the
# main loop publishes on time. While libvirtd is stopped the host is published
# with libvirt_ok=false ("has not answered") and the VMs stay on the wire stale
# with a growing age; after SIGCONT they are fresh again. Then, with libvirtd
# stopped again and the collector stuck inside a libvirt call, SIGTERM still
# gives "offline" and exit status 0, without waiting for the call.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
P=kvmgrid/hv1

kg_broker_start
kg_libvirtd_start /default
kg_agent_start agent --libvirt-uri "$LV_URI" --interval 1s --log-level debug
kg_wait_for 15 kg_payload_matches "$P/vm/test" "d['stale']==False" \
    || kg_die "agent never published a fresh VM through libvirtd"
kg_wait_for 5 kg_payload_matches "$P/metrics" "d['libvirt_ok']==True" || kg_die "libvirt_ok not true"

kill -STOP "$LV_PID"
kg_log "libvirtd $LV_PID stopped"
kg_wait_for 10 kg_payload_matches "$P/metrics" \
    "d['libvirt_ok']==False and 'not answered' in d.get('libvirt_error','')" \
    && kg_pass "hung libvirtd: host published with libvirt_ok=false ($(kg_json_get "$(kg_retained_payload "$P/metrics")" "d['libvirt_error']"))" \
    || kg_fail "host not published as unable to read libvirt while libvirtd hangs"
kg_wait_for 5 kg_payload_matches "$P/vm/test" "d['stale']==True and d['age_s']>=1" \
    && kg_pass "VM published stale with its age while libvirtd hangs" || kg_fail "VM not stale"
# the loop keeps publishing on schedule: the host's timestamp moves
ts1=$(kg_json_get "$(kg_retained_payload "$P/metrics")" "d['ts']")
kg_wait_for 5 kg_payload_matches "$P/metrics" "d['ts'] > $ts1" \
    && kg_pass "host still published every interval while libvirtd hangs" \
    || kg_fail "host not republished while libvirtd hangs"
age1=$(kg_json_get "$(kg_retained_payload "$P/vm/test")" "d['age_s']")
kg_wait_for 5 kg_payload_matches "$P/vm/test" "d['age_s']>$age1" \
    && kg_pass "stale VM's age grows" || kg_fail "stale VM's age does not grow"
kill -0 "$AGENT_PID" && kg_pass "agent alive" || kg_fail "agent exited"

kill -CONT "$LV_PID"
kg_log "libvirtd $LV_PID continued"
kg_wait_for 40 kg_payload_matches "$P/metrics" "d['libvirt_ok']==True" \
    && kg_pass "libvirtd answers again: libvirt_ok=true" || kg_fail "libvirt_ok not back"
kg_wait_for 10 kg_payload_matches "$P/vm/test" "d['stale']==False" \
    && kg_pass "VM fresh again" || kg_fail "VM still stale"

# hang again; SIGTERM while the collector thread is inside libvirt
kill -STOP "$LV_PID"
kg_wait_for 10 kg_payload_matches "$P/metrics" "d['libvirt_ok']==False" \
    || kg_fail "second hang not noticed"
kg_agent_term_while_hung "libvirtd hung"
kg_assert_contains "the log says a libvirt call was left hanging" \
    "$(cat "$KG_TMP/agent.log")" "exiting without waiting"
kill -CONT "$LV_PID"

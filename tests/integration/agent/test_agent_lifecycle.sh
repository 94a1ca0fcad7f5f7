#!/bin/sh
# SPDX-License-Identifier: MIT
# Domains defined, started, suspended, stopped, renamed and undefined while the
# agent runs appear, change state, move and disappear. A private unprivileged
# libvirtd serves the test driver's test:///default node, whose state is shared
# by every connection while one stays open (the agent's), so virsh can change
# domains under the agent. (Through libvirtd, test:///FILE.xml is still private
# to each connection.) The interval is long (5 s) so
# the test shows that lifecycle events act at once. Then libvirtd is killed:
# the host says libvirt_ok=false with the error and the VMs go stale; after a
# restart the same agent reads VMs again.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
P=kvmgrid/hv1

kg_broker_start
kg_libvirtd_start /default
virsh_() { virsh -q -c "$LV_URI" "$@" 2>>"$KG_TMP/virsh.log"; }
VIRSH=virsh_
kg_agent_start agent --libvirt-uri "$LV_URI" --interval 5s --log-level debug
kg_wait_for 15 kg_has_retained "$P/vm/test" || kg_die "agent never published through libvirtd"

cat > "$KG_TMP/new.xml" <<EOX
<domain type='test'>
  <name>new vm+1</name>
  <uuid>0000000a-0000-4000-8000-00000000000a</uuid>
  <memory>262144</memory><vcpu>2</vcpu>
  <os><type>hvm</type></os>
  <devices><disk type='file' device='disk'><source file='/x.img'/><target dev='vda'/></disk></devices>
</domain>
EOX
T="$P/vm/new%20vm%2B1"
$VIRSH define "$KG_TMP/new.xml" >/dev/null || kg_fail "virsh define"
kg_wait_for 4 kg_payload_matches "$T" "d['state']=='shutoff'" && kg_pass "defined VM appears" \
    || kg_fail "defined VM did not appear as shutoff"
$VIRSH start "new vm+1" >/dev/null || kg_fail "virsh start"
kg_wait_for 4 kg_payload_matches "$T" "d['state']=='running'" && kg_pass "started VM running" \
    || kg_fail "started VM not running"
$VIRSH suspend "new vm+1" >/dev/null || kg_fail "virsh suspend"
kg_wait_for 4 kg_payload_matches "$T" "d['state']=='paused'" && kg_pass "suspended VM paused" \
    || kg_fail "suspended VM not paused"
$VIRSH destroy "new vm+1" >/dev/null || kg_fail "virsh destroy"
kg_wait_for 4 kg_payload_matches "$T" "d['state']=='shutoff'" && kg_pass "stopped VM shut off" \
    || kg_fail "stopped VM not shut off"
t0=$(date +%s%N)
$VIRSH undefine "new vm+1" >/dev/null || kg_fail "virsh undefine"
if kg_wait_for 4 kg_no_retained "$T"; then
    kg_pass "undefined VM removed in $(( ($(date +%s%N) - t0) / 1000000 )) ms (interval 5 s)"
else
    kg_fail "undefined VM still retained"
fi

# rename (shut-off domain): the topic moves, the UUID stays
sed -e "s/new vm+1/it's \$x/" -e 's/0000000a-/0000000c-/' "$KG_TMP/new.xml" > "$KG_TMP/ren.xml"
$VIRSH define "$KG_TMP/ren.xml" >/dev/null || kg_fail "virsh define (rename)"
kg_wait_for 6 kg_has_retained "$P/vm/it%27s%20%24x" || kg_fail "VM to rename not published"
$VIRSH domrename "it's \$x" "renamed #1" >/dev/null || kg_fail "virsh domrename"
kg_wait_for 6 kg_has_retained "$P/vm/renamed%20%231" && kg_pass "renamed VM under its new topic" \
    || kg_fail "renamed VM not published under the new name"
kg_wait_for 6 kg_no_retained "$P/vm/it%27s%20%24x" && kg_pass "old topic removed" \
    || kg_fail "old topic of the renamed VM still retained"
kg_assert_eq "uuid kept across rename" "0000000c-0000-4000-8000-00000000000a" \
    "$(kg_json_get "$(kg_retained_payload "$P/vm/renamed%20%231")" "d['uuid']")"

# a transient domain: created running, gone when destroyed (no undefine event)
sed -e 's/new vm+1/transient one/' -e 's/0000000a-/0000000b-/' "$KG_TMP/new.xml" > "$KG_TMP/tr.xml"
$VIRSH create "$KG_TMP/tr.xml" >/dev/null || kg_fail "virsh create"
kg_wait_for 6 kg_payload_matches "$P/vm/transient%20one" "d['state']=='running'" \
    && kg_pass "transient VM appears" || kg_fail "transient VM missing"
$VIRSH destroy "transient one" >/dev/null
kg_wait_for 7 kg_no_retained "$P/vm/transient%20one" && kg_pass "transient VM removed" \
    || kg_fail "destroyed transient VM still retained"

# libvirtd goes away: the agent lives on and says so
kg_stop "$LV_PID" KILL
kg_log "libvirtd $LV_PID killed: $(ps -o pid,stat,comm -p $LV_PID | tail -n +2) status $KG_EXIT_STATUS"
kg_wait_for 15 kg_payload_matches "$P/metrics" "d['libvirt_ok']==False and len(d.get('libvirt_error',''))>0" \
    && kg_pass "host published with libvirt_ok=false and the error" || kg_fail "libvirt_ok not false"
kg_wait_for 10 kg_payload_matches "$P/vm/test" "d['stale']==True and d['age_s']>0" \
    && kg_pass "VMs stale with their age while libvirt is away" || kg_fail "VMs not stale"
kill -0 "$AGENT_PID" && kg_pass "agent still running without libvirt" || kg_fail "agent exited"
kg_libvirtd_start /default
kg_wait_for 40 kg_payload_matches "$P/metrics" "d['libvirt_ok']==True" \
    && kg_pass "libvirt back: libvirt_ok=true" || kg_fail "did not reconnect to libvirtd"
kg_wait_for 10 kg_payload_matches "$P/vm/test" "d['stale']==False" \
    && kg_pass "VMs fresh again" || kg_fail "VMs still stale"
kg_stop "$AGENT_PID"
kg_assert_eq "exit 0" 0 "$KG_EXIT_STATUS"

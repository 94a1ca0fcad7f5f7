#!/bin/sh
# SPDX-License-Identifier: MIT
# Home Assistant discovery with the real agent, a real mosquitto and libvirt's
# test driver behind a private libvirtd (so virsh changes domains under the
# agent). Home Assistant itself is not run: ha_check.py reads every retained
# config as its MQTT discovery would and checks it against its rules and
# against what the broker holds (state and availability topics exist, the
# templates render on the real payloads). Then: Home Assistant's birth brings
# back configs that were deleted; a VM renamed keeps its config topics and
# unique_ids with its new state topic; a VM undefined has its configs emptied,
# also when that happened while the agent was not running; a config nobody
# owns is emptied at connect; with ha_discovery off nothing is published.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
P=kvmgrid/hv1
HA=homeassistant
NODE=$HA/sensor/kvmgrid_hv1
CHECK="python3 $KG_SOURCE_DIR/tests/integration/agent/ha_check.py --ha-prefix $HA --doc $KG_SOURCE_DIR/docs/PROTOCOL.md"

kg_broker_start
kg_libvirtd_start /default
virsh_() { virsh -q -c "$LV_URI" "$@" 2>>"$KG_TMP/virsh.log"; }
VIRSH=virsh_
start_agent() {
    kg_agent_start agent "$@" --libvirt-uri "$LV_URI" --interval 1s --log-level debug \
        --ha-discovery
}

# every config of one VM (uuid $1) or of the host ("host"), retained now
configs_of() { kg_retained_topics "$NODE/#" 1 | grep -c "^$NODE/$1_"; }
# the checker's listing of everything retained now
check_all() {
    kg_retained '#' 2 > "$KG_TMP/retained.txt"
    $CHECK "$KG_TMP/retained.txt" --list > "$KG_TMP/list.txt" 2> "$KG_TMP/check.err"
}

cat > "$KG_TMP/vm.xml" <<EOX
<domain type='test'>
  <name>web 01 #2+%</name>
  <uuid>0000000a-0000-4000-8000-00000000000a</uuid>
  <memory>262144</memory><vcpu>2</vcpu>
  <os><type>hvm</type></os>
</domain>
EOX
U=0000000a-0000-4000-8000-00000000000a
start_agent
kg_wait_for 15 kg_has_retained "$P/vm/test" || kg_die "agent never published"
# (the test driver keeps a domain only while a connection, the agent's, is open)
$VIRSH define "$KG_TMP/vm.xml" >/dev/null || kg_fail "virsh define"
TU=$(kg_json_get "$(kg_retained_payload "$P/vm/test")" "d['uuid']")
all_there() { [ "$(configs_of host)" = 8 ] && [ "$(configs_of "$TU")" = 8 ] && [ "$(configs_of "$U")" = 8 ]; }
kg_wait_for 15 all_there && kg_pass "8 configs for the host and for each VM" ||
    kg_fail "configs: host $(configs_of host), test $(configs_of "$TU"), web $(configs_of "$U")"
# rates come from the second sample on
kg_wait_for 10 kg_payload_matches "$P/vm/test" "'cpu_pct' in d" || kg_fail "no cpu_pct on the running VM"

if check_all; then
    kg_pass "every config follows Home Assistant's discovery rules ($(wc -l < "$KG_TMP/list.txt") configs)"
else
    kg_fail "ha_check: $(cat "$KG_TMP/check.err")"
fi
kg_assert_eq "24 configs checked" 24 "$(wc -l < "$KG_TMP/list.txt")"
line() { grep "^$NODE/$1/config " "$KG_TMP/list.txt"; }
kg_assert_eq "running VM's CPU sensor available with a value" "available number" \
    "$(line "${TU}_cpu_pct" | awk '{ print ($5 == "online" ? "available" : $5), ($4 ~ /^[0-9.]+$/ ? "number" : $4) }')"
kg_assert_eq "shut-off VM's CPU sensor unavailable, its value None (not 0)" "offline None" \
    "$(line "${U}_cpu_pct" | awk '{ print $5, $4 }')"
kg_assert_eq "shut-off VM's state sensor available: shutoff" "online shutoff" \
    "$(line "${U}_state" | awk '{ print $5, $4 }')"
kg_assert_eq "host CPU sensor available" "online" "$(line host_cpu_pct | awk '{ print $5 }')"
kg_assert_eq "unique_id from host and UUID" "kvmgrid_hv1_${U}_cpu_pct" \
    "$(line "${U}_cpu_pct" | awk '{ print $2 }')"
kg_assert_eq "state topic of the awkward name" "$P/vm/web%2001%20%232%2B%25" \
    "$(line "${U}_cpu_pct" | awk '{ print $3 }')"
kg_assert_eq "device linked to its host" "kvmgrid_hv1" \
    "$(kg_json_get "$(kg_retained_payload "$NODE/${U}_cpu_pct/config")" "d['dev']['via_device']")"

# nothing per interval: configs are not sent again while nothing changes
kg_sub_start() { kg_spawn "$1" "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t "$2" -v; }
kg_sub_start live "$HA/#"
LIVE=$KG_LAST_PID
sleep 3.5
kg_stop "$LIVE"
kg_assert_eq "no config republished over 3 intervals (only the retained ones on subscribing)" 24 \
    "$(grep -c "^$NODE/" "$KG_TMP/live.log" || true)"

# Home Assistant's birth: the configs come back after being deleted
for t in $(kg_retained_topics "$NODE/#" 1); do
    "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PORT" -t "$t" -r -n -q 1
done
none() { [ -z "$(kg_retained_topics "$NODE/#" 1)" ]; }
kg_wait_for 5 none || kg_fail "could not delete the configs"
kg_pub "$HA/status" online -q 1
kg_wait_for 10 all_there && kg_pass "birth message: all 24 configs published again" ||
    kg_fail "after the birth message: host $(configs_of host), test $(configs_of "$TU"), web $(configs_of "$U")"
kg_wait_for 5 grep -q "Home Assistant is online" "$KG_TMP/agent.log" || kg_fail "birth not logged"

# rename: the same config topics and unique_ids, the new state topic
uids_before=$(for t in $(kg_retained_topics "$NODE/#" 1 | grep "/${U}_"); do
    kg_json_get "$(kg_retained_payload "$t")" "d['uniq_id']"; done | sort)
$VIRSH domrename "web 01 #2+%" "renamed vm" >/dev/null || kg_fail "virsh domrename"
kg_wait_for 10 kg_payload_matches "$NODE/${U}_cpu_pct/config" "d['stat_t']=='~/vm/renamed%20vm'" &&
    kg_pass "renamed VM: config republished with the new state topic" || kg_fail "config not moved"
kg_wait_for 5 kg_payload_matches "$NODE/${U}_state/config" "d['dev']['name']=='renamed vm'" ||
    kg_fail "device not renamed"
uids_after=$(for t in $(kg_retained_topics "$NODE/#" 1 | grep "/${U}_"); do
    kg_json_get "$(kg_retained_payload "$t")" "d['uniq_id']"; done | sort)
kg_assert_eq "8 configs at the same topics after the rename" 8 "$(configs_of "$U")"
kg_assert_eq "unique_ids kept across the rename" "$uids_before" "$uids_after"
check_all || kg_fail "after the rename: $(cat "$KG_TMP/check.err")"

# undefine: its configs are emptied
$VIRSH undefine "renamed vm" >/dev/null || kg_fail "virsh undefine"
gone() { [ "$(configs_of "$U")" = 0 ]; }
kg_wait_for 10 gone && kg_pass "undefined VM: its configs emptied" || kg_fail "configs of the undefined VM remain"
kg_assert_eq "the others stay" 16 "$(kg_retained_topics "$NODE/#" 1 | grep -c .)"

# while the agent is away: a VM goes (the test driver forgets every domain
# defined once its last connection, the agent's, closes), and a config nobody
# owns appears
sed -e 's/web 01 #2+%/later/' -e 's/0000000a-/0000000b-/' "$KG_TMP/vm.xml" > "$KG_TMP/later.xml"
U2=0000000b-0000-4000-8000-00000000000a
$VIRSH define "$KG_TMP/later.xml" >/dev/null || kg_fail "virsh define later"
later() { [ "$(configs_of "$U2")" = 8 ]; }
kg_wait_for 15 later || kg_fail "configs of the new VM missing"
kg_stop "$AGENT_PID"
kg_wait_for 10 sh -c "! virsh -q -c '$LV_URI' dominfo later" || kg_fail "the test driver kept 'later'"
kg_pub "$NODE/ffffffff-0000-4000-8000-000000000000_cpu_pct/config" '{"stat_t":"x"}' -r -q 1
start_agent
gone2() { [ "$(configs_of "$U2")" = 0 ] && [ "$(configs_of ffffffff-0000-4000-8000-000000000000)" = 0 ]; }
kg_wait_for 15 gone2 && kg_pass "left-over configs emptied at connect" ||
    kg_fail "left-over configs remain: $(kg_retained_topics "$NODE/#" 1 | grep -v "$TU\|host_")"
kg_assert_eq "the configs of what exists stay" 16 "$(kg_retained_topics "$NODE/#" 1 | grep -c .)"
kg_stop "$AGENT_PID"
kg_assert_eq "exit 0" 0 "$KG_EXIT_STATUS"

# ha_discovery off (the default): nothing under the discovery prefix
kg_agent_start agent2 --host hv2 --libvirt-uri "$LV_URI" --interval 1s
kg_wait_for 15 kg_has_retained kvmgrid/hv2/vm/test || kg_fail "second agent never published"
sleep 1
kg_assert_eq "ha_discovery off: no discovery config" "" \
    "$(kg_retained_topics "$HA/sensor/kvmgrid_hv2/#" 1)"
kg_pub "$HA/status" online -q 1
sleep 1
kg_assert_eq "ha_discovery off: the birth message changes nothing" "" \
    "$(kg_retained_topics "$HA/sensor/kvmgrid_hv2/#" 1)"
kg_stop "$AGENT_PID"

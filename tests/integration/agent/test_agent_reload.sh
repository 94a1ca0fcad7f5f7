#!/bin/sh
# SPDX-License-Identifier: MIT
# SIGHUP reloads the config: an invalid file is reported (file:line) and the
# running config kept; a valid one with a new prefix moves the agent's topics
# (old VM topics removed, old status "offline"). The deadband keeps quiet VMs
# off the wire yet republishes them every deadband_max_skip intervals.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"

kg_broker_start
CONF="$KG_TMP/agent.conf"
cat > "$CONF" <<EOC
libvirt_uri = test://$NODE_XML
broker = $KG_BROKER_URI
host = hv1
interval = 500ms
proc_root = ""
EOC
kg_spawn agent "$AGENT" --config "$CONF"
AGENT_PID=$KG_LAST_PID
kg_wait_for 15 kg_has_retained "kvmgrid/hv1/vm/web%2B1" || kg_die "agent did not publish"

sed -i -e 's/^interval = .*/interval = 1s/' "$CONF"
printf 'bogus = 1\n' >> "$CONF"
kill -HUP "$AGENT_PID"
kg_wait_for 10 grep -q "reload: $CONF:6: unknown key 'bogus'; keeping" "$KG_TMP/agent.log" \
    && kg_pass "invalid reload reported with file:line" || kg_fail "no reload error in the log"
kill -0 "$AGENT_PID" && kg_pass "still running after a bad reload" || kg_fail "agent died on a bad reload"
sed -i -e '/bogus/d' "$CONF"
printf 'host = hv2\n' >> "$CONF"
kill -HUP "$AGENT_PID"
kg_wait_for 10 grep -q "reload: $CONF:6: 'host' is already set on line 3" "$KG_TMP/agent.log" \
    && kg_pass "a key set twice is refused with both lines" || kg_fail "no duplicate-key error in the log"
kill -0 "$AGENT_PID" && kg_pass "still running after a duplicate key" || kg_fail "agent died on a duplicate key"

sed -i -e '/^host = hv2$/d' "$CONF"
echo "prefix = site2/kvmgrid" >> "$CONF"
kill -HUP "$AGENT_PID"
kg_wait_for 10 kg_has_retained "site2/kvmgrid/hv1/vm/web%2B1" && kg_pass "new prefix in use" \
    || kg_fail "nothing under the new prefix"
kg_assert_eq "new status online" online "$(kg_retained_payload site2/kvmgrid/hv1/status)"
kg_wait_for 5 kg_no_retained "kvmgrid/hv1/vm/web%2B1" && kg_pass "old VM topics removed" \
    || kg_fail "old VM topics still retained"
kg_assert_eq "old status offline" offline "$(kg_retained_payload kvmgrid/hv1/status)"
kg_stop "$AGENT_PID"
kg_assert_eq "exit 0" 0 "$KG_EXIT_STATUS"

# deadband: the shut-off VM's figures never move; with max_skip 4 at 250 ms it
# is republished about once a second instead of four times; count over 3 s.
kg_agent_start agent2 --libvirt-uri "test://$NODE_XML" --interval 250ms --deadband-pct 20 --deadband-max-skip 4
kg_wait_for 15 kg_has_retained "kvmgrid/hv1/vm/say%20%22hi%22" || kg_die "agent2 did not publish"
sleep 1
"$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t 'kvmgrid/hv1/vm/say%20%22hi%22' -W 3 \
    > "$KG_TMP/db.txt" 2>/dev/null
n=$(wc -l < "$KG_TMP/db.txt")
# without a deadband: 12 in 3 s (+1 retained); with it: ~3 (+1)
if [ "$n" -ge 2 ] && [ "$n" -le 6 ]; then kg_pass "deadband: $n messages in 3 s instead of ~13"; else kg_fail "deadband: $n messages in 3 s"; fi
kg_stop "$AGENT_PID"

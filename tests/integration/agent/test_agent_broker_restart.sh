#!/bin/sh
# SPDX-License-Identifier: MIT
# The broker is down at start, then killed and restarted mid-run (no persistence:
# every retained message is lost): the same agent process reconnects and puts the
# current state back, without a flood of old samples.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
P=kvmgrid/hv1

# broker down at start: the agent keeps sampling and connects when it comes up
KG_PORT=$(kg_free_port)
KG_BROKER_URI="tcp://127.0.0.1:$KG_PORT"
kg_agent_start agent --libvirt-uri "test://$NODE_XML" --interval 1s
sleep 2 # let it fail to connect for a while (nothing to poll for: no broker)
kill -0 "$AGENT_PID" || kg_die "agent exited without a broker"
kg_broker_start
kg_wait_for 15 kg_has_retained "$P/vm/web%2B1" || kg_fail "no VM published after the broker came up"
kg_assert_eq "online after late broker" online "$(kg_retained_payload $P/status)"

# kill -9 the broker mid-run, restart it on the same port
kg_broker_stop KILL
sleep 1.5 # the agent samples while the broker is away
kg_broker_start
kg_wait_for 15 kg_has_retained "$P/vm/web%2B1" || kg_fail "VMs not republished after the broker restart"
kg_wait_for 10 kg_has_retained "$P/metrics" || kg_fail "host not republished"
kg_assert_eq "online again" online "$(kg_retained_payload $P/status)"
kg_assert_eq "all 7 VMs back" 7 "$(kg_retained_topics "$P/vm/+" | wc -l)"
kill -0 "$AGENT_PID" && kg_pass "the same agent process recovered" || kg_fail "agent died"

# no backlog: a live subscriber sees roughly one message per VM per interval,
# not queued old samples (7 VMs + host per second; allow slack)
"$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t "$P/vm/web%2B1" -W 3 > "$KG_TMP/live.txt" 2>/dev/null
n=$(wc -l < "$KG_TMP/live.txt")
if [ "$n" -ge 2 ] && [ "$n" -le 5 ]; then kg_pass "live rate normal ($n msgs in 3 s)"; else kg_fail "live messages in 3 s: $n"; fi
kg_stop "$AGENT_PID"
kg_assert_eq "exit 0" 0 "$KG_EXIT_STATUS"

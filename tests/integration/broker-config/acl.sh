#!/bin/sh
# SPDX-License-Identifier: MIT
# production.conf's users and ACLs, on a real mosquitto: each role may do what
# it needs and nothing more. A refused publish must not reach any subscriber;
# with MQTT 5 the publisher sees the refusal (0x87 Not authorized), with 3.1.1
# it is dropped silently. Anonymous and wrong-password clients are refused, and
# SIGHUP picks up users added later.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/broker-config/broker-lib.sh"

kg_prod_setup prod agent:web-01 agent:web-02 wall:lobby load:vm-7 load:vm-8 operator:alice
kg_prod_start

# An operator reads everything: it is the witness of what got through.
kg_prod_sub_start seen operator@alice 'kvmgrid/#'
OUT="$KG_TMP/seen.out"
# Wait until the subscription is live: retry a marker until one arrives.
kg_wait_for 10 sh -c "'$MOSQUITTO_PUB' -h 127.0.0.1 -p $KG_PROD_PORT -u web-01 -P '$(kg_prod_password web-01)' -q 1 -t kvmgrid/web-01/status -m ready && grep -qx 'kvmgrid/web-01/status ready' '$OUT'" ||
    kg_die "the operator's subscription never saw the agent's status"

# --- agent web-01: its own host only
out=$(kg_prod_pub web-01 kvmgrid/web-01/metrics '{"ok":1}' -V 5)
kg_assert_not_contains "agent writes its own metrics (v5, no refusal)" "$out" "Not authorized"
kg_prod_pub web-01 kvmgrid/web-01/vm/db-1 '{"vm":1}' -r >/dev/null
out=$(kg_prod_pub web-01 kvmgrid/web-01/summary '{"vms":[]}' -V 5 -r)
kg_assert_not_contains "agent writes its own summary (v5, no refusal)" "$out" "Not authorized"
out=$(kg_prod_pub web-01 kvmgrid/web-02/summary hijack -V 5 -r)
kg_assert_contains "agent cannot write another host's summary" "$out" "Not authorized"
out=$(kg_prod_pub web-01 kvmgrid/web-02/status hijack -V 5 -r)
kg_assert_contains "agent publishing as another host is refused with 0x87 (v5)" "$out" "Not authorized"
out=$(kg_prod_pub web-01 kvmgrid/web-02/vm/x hijack311 -V 311 -r)
kg_assert_eq "agent's refused publish in 3.1.1 looks accepted (silent drop)" "" "$out"
kg_prod_pub web-01 kvmgrid/web-01/load/state fake -V 5 >"$KG_TMP/o" 2>&1
kg_assert_contains "agent cannot write a load state, even for its own name" "$(cat "$KG_TMP/o")" "Not authorized"
kg_prod_pub web-01 kvmgrid/web-01/load/cmd fake -V 5 >"$KG_TMP/o" 2>&1
kg_assert_contains "agent cannot send a load command" "$(cat "$KG_TMP/o")" "Not authorized"
kg_prod_pub web-01 kvmgrid/web-01 short -V 5 >"$KG_TMP/o" 2>&1
kg_assert_contains "agent cannot write outside the scheme under its host" "$(cat "$KG_TMP/o")" "Not authorized"
kg_prod_pub web-01 other/web-01/status x -V 5 >"$KG_TMP/o" 2>&1
kg_assert_contains "agent cannot write outside the prefix" "$(cat "$KG_TMP/o")" "Not authorized"

# --- wall lobby: reads, never writes (not even under its own name, which the
#     agent patterns would allow to every user without the deny in its block)
for t in kvmgrid/web-01/status kvmgrid/wall@lobby/status kvmgrid/wall@lobby/vm/x \
         kvmgrid/vm-7/load/cmd kvmgrid/lobby/status; do
    out=$(kg_prod_pub wall@lobby "$t" wall-wrote -V 5 -r)
    kg_assert_contains "wall cannot publish $t" "$out" "Not authorized"
done

# --- load vm-7: its own cmd (read) and state (write) only
out=$(kg_prod_pub load@vm-7 kvmgrid/vm-7/load/state '{"state":"idle"}' -V 5 -r)
kg_assert_not_contains "load generator writes its own state" "$out" "Not authorized"
for t in kvmgrid/vm-8/load/cmd kvmgrid/vm-7/load/cmd kvmgrid/vm-8/load/state \
         kvmgrid/vm-7/status kvmgrid/vm-7/metrics kvmgrid/vm-7/vm/x kvmgrid/load@vm-7/status; do
    out=$(kg_prod_pub load@vm-7 "$t" load-wrote -V 5 -r)
    kg_assert_contains "load generator vm-7 cannot publish $t" "$out" "Not authorized"
done

# --- operator: any node's cmd, nothing else
out=$(kg_prod_pub operator@alice kvmgrid/vm-8/load/cmd '{"cmd":"stop"}' -V 5)
kg_assert_not_contains "operator commands vm-8" "$out" "Not authorized"
out=$(kg_prod_pub operator@alice kvmgrid/vm-7/load/cmd '{"cmd":"status"}' -V 5)
kg_assert_not_contains "operator commands vm-7" "$out" "Not authorized"
for t in kvmgrid/vm-7/load/state kvmgrid/web-01/status kvmgrid/operator@alice/status; do
    out=$(kg_prod_pub operator@alice "$t" op-wrote -V 5 -r)
    kg_assert_contains "operator cannot publish $t" "$out" "Not authorized"
done

# Nothing refused reached the witness. The sync marker comes after every
# refused publish above (each acknowledged before the next began).
kg_prod_sync "$OUT" web-01 kvmgrid/web-01/status
seen=$(cat "$OUT")
kg_assert_contains "allowed agent metrics delivered" "$seen" 'kvmgrid/web-01/metrics {"ok":1}'
kg_assert_contains "allowed agent summary delivered" "$seen" 'kvmgrid/web-01/summary {"vms":[]}'
kg_assert_contains "allowed load state delivered" "$seen" 'kvmgrid/vm-7/load/state {"state":"idle"}'
kg_assert_contains "allowed command delivered" "$seen" 'kvmgrid/vm-8/load/cmd {"cmd":"stop"}'
for bad in hijack hijack311 fake short wall-wrote load-wrote op-wrote; do
    if grep -q " $bad\$" "$OUT"; then kg_fail "refused payload '$bad' reached a subscriber: $(grep " $bad\$" "$OUT")"
    else kg_pass "refused payload '$bad' reached no subscriber"; fi
done
kg_assert_eq "no retained message was created for another host" "" "$(kg_prod_retained operator@alice 'kvmgrid/web-02/#' 1)"

# --- what each role can READ: subscribe to everything, see only what is allowed
kg_prod_sub_start load7 load@vm-7 'kvmgrid/#'
kg_prod_sub_start agentread web-01 'kvmgrid/#'
kg_prod_sub_start wallread wall@lobby 'kvmgrid/#'
kg_wait_for 10 sh -c "'$MOSQUITTO_PUB' -h 127.0.0.1 -p $KG_PROD_PORT -u operator@alice -P '$(kg_prod_password operator@alice)' -q 1 -t kvmgrid/vm-7/load/cmd -m go7 && grep -qx 'kvmgrid/vm-7/load/cmd go7' '$KG_TMP/load7.out' && grep -qx 'kvmgrid/vm-7/load/cmd go7' '$KG_TMP/wallread.out'" ||
    kg_die "load generator vm-7 never received its own command"
kg_prod_pub operator@alice kvmgrid/vm-8/load/cmd go8 >/dev/null
kg_prod_pub web-02 kvmgrid/web-02/metrics m2 >/dev/null
kg_prod_sync "$KG_TMP/wallread.out" operator@alice kvmgrid/vm-7/load/cmd
kg_prod_sync "$KG_TMP/load7.out" operator@alice kvmgrid/vm-7/load/cmd
kg_assert_contains "wall reads agents' metrics" "$(cat "$KG_TMP/wallread.out")" "kvmgrid/web-02/metrics m2"
kg_assert_contains "wall reads retained VMs" "$(cat "$KG_TMP/wallread.out")" 'kvmgrid/web-01/vm/db-1 {"vm":1}'
kg_assert_eq "load generator vm-7 reads only its own commands" \
    "$(grep -v '^kvmgrid/vm-7/load/cmd ' "$KG_TMP/load7.out")" ""
kg_assert_eq "an agent reads only its own VM topics (to remove left-overs)" \
    'kvmgrid/web-01/vm/db-1 {"vm":1}' "$(cat "$KG_TMP/agentread.out")"

# --- a summary as large as a summary may be (KG_SUMMARY_MAX, 1 MiB) fits production.conf's
#     max_packet_size: accepted, kept retained whole, and its sender stays connected
head -c 1048576 /dev/zero | tr '\0' x > "$KG_TMP/big-summary"
out=$("$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u web-01 -P "$(kg_prod_password web-01)" \
    -q 1 -V 5 -r -t kvmgrid/web-01/summary -f "$KG_TMP/big-summary" 2>&1); rc=$?
kg_assert_eq "a 1 MiB summary is accepted ($out)" 0 "$rc"
len=$("$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u operator@alice \
    -P "$(kg_prod_password operator@alice)" -t kvmgrid/web-01/summary -C 1 -W 5 -F '%l' 2>&1)
kg_assert_eq "the 1 MiB summary is retained whole" 1048576 "$len"

# --- authentication
out=$("$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -t kvmgrid/anon/status -m x 2>&1); rc=$?
kg_assert_eq "anonymous connection refused (exit status)" 5 "$rc"
kg_assert_contains "anonymous connection refused (reason)" "$out" "not authorised"
out=$("$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u web-01 -P wrong-password -t kvmgrid/web-01/status -m x 2>&1); rc=$?
kg_assert_eq "wrong password refused (exit status)" 5 "$rc"
kg_assert_contains "wrong password refused (reason)" "$out" "not authorised"
out=$("$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u nosuchuser -P x -t kvmgrid/nosuchuser/status -m x 2>&1); rc=$?
kg_assert_eq "unknown user refused" 5 "$rc"
out=$("$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -t 'kvmgrid/#' -C 1 -W 3 2>&1); rc=$?
kg_assert_contains "anonymous subscriber refused" "$out" "not authorised"

# --- SIGHUP: a user added with mkusers.sh may connect after a reload, not before
"$KG_BROKER_CFG/mkusers.sh" -d "$KG_PROD_DIR/etc" agent:web-03 2>>"$KG_TMP/setup.log" || kg_die "mkusers.sh (add) failed"
out=$(kg_prod_pub web-03 kvmgrid/web-03/status online 2>&1); rc=$?
kg_assert_eq "new user refused before the reload" 5 "$rc"
kill -HUP "$KG_PROD_PID"
if kg_wait_for 10 sh -c "'$MOSQUITTO_PUB' -h 127.0.0.1 -p $KG_PROD_PORT -u web-03 -P '$(kg_prod_password web-03)' -q 1 -t kvmgrid/web-03/status -m online"; then
    kg_pass "new user accepted after SIGHUP"
else
    kg_fail "new user still refused after SIGHUP"
fi
out=$(kg_prod_pub web-03 kvmgrid/web-01/status hijack3 -V 5)
kg_assert_contains "new agent is confined to its host too" "$out" "Not authorized"
out=$(kg_prod_pub web-01 kvmgrid/web-01/status online -V 5)
kg_assert_not_contains "existing users keep their passwords" "$out" "not authorised"
# --- Home Assistant discovery (mkusers.sh --ha-prefix): an agent writes its own
#     configs (under its host id, computed for a name that is not one) and no other
"$KG_BROKER_CFG/mkusers.sh" -d "$KG_PROD_DIR/etc" --ha-prefix homeassistant agent:hv-01.example.org \
    2>>"$KG_TMP/setup.log" || kg_die "mkusers.sh --ha-prefix failed"
kill -HUP "$KG_PROD_PID"
HA=homeassistant/sensor
kg_wait_for 10 sh -c "'$MOSQUITTO_PUB' -h 127.0.0.1 -p $KG_PROD_PORT -u hv-01.example.org -P '$(kg_prod_password hv-01.example.org)' -q 1 -t kvmgrid/hv-01.example.org/status -m online" ||
    kg_fail "agent hv-01.example.org refused after SIGHUP"
out=$(kg_prod_pub web-01 "$HA/kvmgrid_web-01/x_cpu_pct/config" '{}' -V 5 -r)
kg_assert_not_contains "agent writes its own discovery config" "$out" "Not authorized"
out=$(kg_prod_pub hv-01.example.org "$HA/kvmgrid_hv-01_example_org_fff96cfb3d12d025/x_cpu_pct/config" '{}' -V 5 -r)
kg_assert_not_contains "agent with a hashed host id writes its own config" "$out" "Not authorized"
for t in "$HA/kvmgrid_web-02/x_cpu_pct/config" "$HA/kvmgrid_hv-01.example.org/x/config" homeassistant/status \
         "$HA/other/x/config"; do
    out=$(kg_prod_pub web-01 "$t" '{}' -V 5 -r)
    kg_assert_contains "agent web-01 cannot publish $t" "$out" "Not authorized"
done
out=$(kg_prod_pub wall@lobby "$HA/kvmgrid_wall@lobby/x/config" '{}' -V 5 -r)
kg_assert_contains "a role cannot use the agent pattern for its own name" "$out" "Not authorized"
kg_assert_eq "an agent reads back its own configs" "$HA/kvmgrid_web-01/x_cpu_pct/config" \
    "$(kg_prod_retained web-01 "$HA/#" 1 | cut -d' ' -f1)"

kill -0 "$KG_PROD_PID" 2>/dev/null && kg_pass "broker alive after all of it" || kg_fail "broker died"
kg_stop "$KG_PROD_PID"

#!/bin/sh
# SPDX-License-Identifier: MIT
# The agent on the test-driver fixture node and a real mosquitto: a fresh
# subscriber sees exactly the expected retained topics (escaped names; the
# host's summary with a row for each VM), plausible
# values at the driver's known rates, "online"; SIGTERM -> "offline", exit 0 in
# under a second.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"

kg_broker_start
kg_agent_start agent --libvirt-uri "test://$NODE_XML" --interval 1s
P=kvmgrid/hv1

# two cycles at least, so rates exist
kg_wait_for 15 kg_payload_matches "$P/vm/web%2B1" "d.get('cpu_pct') is not None" \
    || kg_fail "web+1 never got a CPU rate"

expected="$P/metrics
$P/status
$P/vm/100%25%20cpu
$P/vm/back%5Cslash
$P/vm/db%232
$P/vm/grüße-虚拟机
$P/vm/it%27s%20%24x
$P/summary
$P/vm/say%20%22hi%22
$P/vm/web%2B1"
kg_assert_eq "exactly the expected retained topics" "$(printf '%s\n' "$expected" | sort)" \
    "$(kg_retained_topics 'kvmgrid/#')"
kg_assert_eq "status online" "online" "$(kg_retained_payload $P/status)"
# the summary (on by default) has a row per VM, names as in their payloads, read by
# libkvmgrid's decoder
names=$(for t in $(kg_retained_topics "$P/vm/+"); do kg_json_get "$(kg_retained_payload "$t")" "d['name']"; done | LC_ALL=C sort)
kg_assert_eq "the summary has every VM, awkward names included" "$names" \
    "$(kg_json_get "$(kg_retained_payload "$P/summary" | "$(kg_bin kg-test-summary-decode)")" \
       "'\\n'.join(sorted(r['name'] for r in d['vms']))")"

web=$(kg_retained_payload "$P/vm/web%2B1")
kg_assert_eq "web+1 name round-trips" "web+1" "$(kg_json_get "$web" "d['name']")"
kg_assert_eq "web+1 running" "running" "$(kg_json_get "$web" "d['state']")"
kg_assert_eq "web+1 uuid" "00000001-0000-4000-8000-000000000001" "$(kg_json_get "$web" "d['uuid']")"
# test driver: cpuTime +1e9 ns/s over 2 vCPUs; each disk +50 kB/s read, +25 kB/s write
kg_assert_eq "web+1 cpu ~50%" True "$(kg_json_get "$web" "abs(d['cpu_pct'] - 50) < 5")"
kg_assert_eq "web+1 vda rd ~50 kB/s" True \
    "$(kg_json_get "$web" "abs([x for x in d['disks'] if x['name']=='vda'][0]['rd_bytes_per_s'] - 50000) < 5000")"
kg_assert_eq "web+1 vdb wr ~25 kB/s" True \
    "$(kg_json_get "$web" "abs([x for x in d['disks'] if x['name']=='vdb'][0]['wr_bytes_per_s'] - 25000) < 2500")"
kg_assert_eq "web+1 disk sum rd ~100 kB/s" True "$(kg_json_get "$web" "abs(d['disk_rd_bytes_per_s'] - 100000) < 10000")"
kg_assert_eq "web+1 two nets" 2 "$(kg_json_get "$web" "len(d['nets'])")"
kg_assert_eq "web+1 guest memory used 50%" True "$(kg_json_get "$web" "abs(d['mem_used_pct'] - 50) < 0.01")"

quote=$(kg_retained_payload "$P/vm/say%20%22hi%22")
kg_assert_eq "quoted name round-trips" 'say "hi"' "$(kg_json_get "$quote" "d['name']")"
kg_assert_eq "shut-off state" shutoff "$(kg_json_get "$quote" "d['state']")"
kg_assert_eq "shut-off: no cpu figure" False "$(kg_json_get "$quote" "'cpu_pct' in d")"
paused=$(kg_retained_payload "$P/vm/100%25%20cpu")
kg_assert_eq "paused state" paused "$(kg_json_get "$paused" "d['state']")"
kg_assert_eq "paused: no cpu rate" False "$(kg_json_get "$paused" "'cpu_pct' in d")"
bs=$(kg_retained_payload "$P/vm/back%5Cslash")
kg_assert_eq "backslash name round-trips" 'back\slash' "$(kg_json_get "$bs" "d['name']")"
intl=$(kg_retained_payload "$P/vm/grüße-虚拟机")
kg_assert_eq "non-ASCII name round-trips" "grüße-虚拟机" "$(kg_json_get "$intl" "d['name']")"
kg_assert_eq "three disks" 3 "$(kg_json_get "$intl" "len(d['disks'])")"

host=$(kg_retained_payload "$P/metrics")
kg_assert_eq "host libvirt_ok" True "$(kg_json_get "$host" "d['libvirt_ok']")"
kg_assert_eq "host collect path" fallback "$(kg_json_get "$host" "d['collect_path']")"
kg_assert_eq "host vms defined" 7 "$(kg_json_get "$host" "int(d['vms_defined'])")"
kg_assert_eq "host vms running" 4 "$(kg_json_get "$host" "int(d['vms_running'])")"
kg_assert_eq "host interval" 1 "$(kg_json_get "$host" "int(d['interval_s'])")"
grep -q "stats path fallback" "$KG_TMP/agent.log" || kg_fail "the log does not say which stats path is in use"

# SIGTERM: offline and exit 0 within a second
t0=$(date +%s%N)
kill -TERM "$AGENT_PID"
i=0
while kill -0 "$AGENT_PID" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.02; i=$((i + 1)); done
t1=$(date +%s%N)
wait "$AGENT_PID"
rc=$?
kg_assert_eq "exit status after SIGTERM" 0 "$rc"
ms=$(( (t1 - t0) / 1000000 ))
if [ "$ms" -lt 1000 ]; then kg_pass "stopped in $ms ms"; else kg_fail "stopping took $ms ms"; fi
kg_assert_eq "status offline" "offline" "$(kg_retained_payload $P/status)"

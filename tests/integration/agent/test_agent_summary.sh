#!/bin/sh
# SPDX-License-Identifier: MIT
# The host summary (<prefix>/<host>/summary) from the real agent on libvirt's
# test driver (through a private libvirtd, so that virsh can change domains under
# the agent), read with libkvmgrid's own decoder (kg-test-summary-decode): it is
# retained and decodes; it comes every interval, after the VM topics of its
# cycle, with every VM of the host and the same state, staleness and figures
# (rounded) as that VM's own topic of the same cycle; a VM undefined is gone from
# the next summary; VMs whose statistics are late are marked stale; and with
# summary = false there is none (the one left by the earlier run is cleared).
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
P=kvmgrid/hv1
S=$P/summary
DECODE=$(kg_bin kg-test-summary-decode)

kg_broker_start
kg_libvirtd_start /default
virsh_() { virsh -q -c "$LV_URI" "$@" 2>>"$KG_TMP/virsh.log"; }
domain_xml() { # NAME UUID-DIGIT
    cat <<EOX
<domain type='test'>
  <name>$1</name>
  <uuid>0000000$2-0000-4000-8000-00000000000$2</uuid>
  <memory>262144</memory><vcpu>2</vcpu>
  <os><type>hvm</type></os>
  <devices><disk type='file' device='disk'><source file='/x.img'/><target dev='vda'/></disk></devices>
</domain>
EOX
}
domain_xml "web 2" 2 > "$KG_TMP/web2.xml"
domain_xml "db+3" 3 > "$KG_TMP/db3.xml"
kg_agent_start agent --libvirt-uri "$LV_URI" --interval 1s
kg_wait_for 15 kg_has_retained "$S" || kg_die "the agent published no summary"
kg_pass "summary retained on $S"
# (the test driver behind libvirtd keeps its domains while the agent's connection is open)
virsh_ define "$KG_TMP/web2.xml" >/dev/null || kg_die "virsh define web 2"
virsh_ define "$KG_TMP/db3.xml" >/dev/null && virsh_ start "db+3" >/dev/null ||
    kg_die "virsh define/start db+3"

# what the real decoder reads in the retained summary
decoded() { kg_retained_payload "$S" | "$DECODE"; }
all_three() {
    kg_json_get "$(decoded)" "sorted(r['name'] for r in d['vms'])==['db+3','test','web 2'] and d['host']=='hv1'" |
        grep -qx True
}
kg_wait_for 10 all_three && kg_pass "it decodes, for host hv1, with a row for each of its 3 VMs" ||
    kg_fail "retained summary: $(kg_retained_payload "$S") -> $(decoded)"

# A live stream of the host's topics: the summaries, and the VM topics of each cycle.
"$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -q 1 -t "$P/#" -v > "$KG_TMP/stream" 2>>"$KG_TMP/sub.log" &
SUB_PID=$!
KG_PIDS="$KG_PIDS $SUB_PID"
summaries() { grep -c "^$S {" "$KG_TMP/stream"; }
at_least() { [ "$(summaries)" -ge "$1" ]; }
kg_wait_for 20 at_least 6 || kg_fail "fewer than 6 summaries in 20 s at a 1 s interval"
virsh_ undefine "web 2" >/dev/null || kg_fail "virsh undefine web 2"
n=$(summaries)
kg_wait_for 20 at_least $((n + 3)) || kg_fail "the summaries stopped after the undefine"
kg_stop "$SUB_PID"

python3 - "$KG_TMP/stream" "$DECODE" "$S" "$P/vm/" <<'EOPY' >"$KG_TMP/check.out" 2>&1
import json, subprocess, sys
stream, decode, stopic, vprefix = sys.argv[1:5]
lines = open(stream, encoding='utf-8').read().split('\n')
fails = []
def fail(msg):
    fails.append(msg)
summaries, segment, removed_at = [], {}, None
for line in lines:
    if not line:
        continue
    topic, _, payload = line.partition(' ')
    if topic == stopic:
        out = subprocess.run([decode], input=payload.encode(), capture_output=True)
        if out.returncode != 0:
            fail('summary %d does not decode: %s' % (len(summaries), out.stderr.decode()))
            continue
        summaries.append((json.loads(out.stdout), segment, removed_at is not None))
        segment = {}
    elif topic.startswith(vprefix):
        if payload in ('', '(null)'):  # mosquitto_sub -v prints an empty payload so
            if topic == vprefix + 'web%202':
                removed_at = len(summaries)
            continue
        d = json.loads(payload)
        segment[d['name']] = d
def near(a, b, tol):
    return a is not None and b is not None and abs(a - b) <= tol
def check_fig(s, name, col, want, tol):
    got = s.get(col)
    if want is None and got is not None:
        fail('%s %s: %s in the summary, absent in its VM topic' % (name, col, got))
    elif want is not None and not near(got, want, tol):
        fail('%s %s: %s in the summary, %s in its VM topic' % (name, col, got, want))
def add(d, a, b):
    x, y = d.get(a), d.get(b)
    return None if x is None and y is None else (x or 0) + (y or 0)
def larger(d, a, b):
    x, y = d.get(a), d.get(b)
    return None if x is None and y is None else max(v for v in (x, y) if v is not None)
compared = after = 0
prev_ts = None
# the first two summaries may come with retained VM messages of older cycles
for i, (s, seg, after_removal) in enumerate(summaries):
    if prev_ts is not None and not (0 < s['ts'] - prev_ts <= 2500):
        fail('summary %d: ts %d, %d ms after the one before (interval 1 s)' % (i, s['ts'], s['ts'] - prev_ts))
    prev_ts = s['ts']
    rows = {r['name']: r for r in s['vms']}
    if len(rows) != len(s['vms']):
        fail('summary %d: a VM twice' % i)
    if after_removal and 'web 2' in rows:
        fail('summary %d: web 2 still there after its removal' % i)
    if after_removal:
        after += 1
    if i < 2:
        continue
    if sorted(rows) != sorted(seg):
        fail('summary %d: rows %s, VM topics of its cycle %s' % (i, sorted(rows), sorted(seg)))
    for name, vm in seg.items():
        r = rows.get(name)
        if r is None:
            continue
        compared += 1
        if r['state'] != vm['state'] or r['stale'] != vm.get('stale', False):
            fail('%s: %s/%s in the summary, %s/%s in its topic' % (name, r['state'], r['stale'], vm['state'], vm.get('stale')))
        check_fig(r, name, 'cpu_pct', vm.get('cpu_pct'), 0.0505)
        check_fig(r, name, 'mem_used_pct', vm.get('mem_used_pct'), 0.0505)
        check_fig(r, name, 'steal_pct', vm.get('steal_pct'), 0.0505)
        check_fig(r, name, 'disk_bytes_per_s', add(vm, 'disk_rd_bytes_per_s', 'disk_wr_bytes_per_s'), 0.502)
        check_fig(r, name, 'net_bytes_per_s', add(vm, 'net_rx_bytes_per_s', 'net_tx_bytes_per_s'), 0.502)
        check_fig(r, name, 'disk_lat_ms', larger(vm, 'disk_rd_lat_ms', 'disk_wr_lat_ms'), 0.0055)
print('%d summaries, %d rows compared with their VM topics, %d summaries after the removal' % (len(summaries), compared, after))
for f in fails[:20]:
    print('FAIL', f)
sys.exit(1 if fails or compared < 8 or after < 2 or removed_at is None else 0)
EOPY
rc=$?
kg_log "$(cat "$KG_TMP/check.out")"
kg_assert_eq "each summary has every VM, as its topic of the same cycle says, in time; web 2 gone after its removal" 0 "$rc"
running=$(kg_json_get "$(decoded)" "[r for r in d['vms'] if r['name']=='db+3'][0]")
kg_assert_contains "a running VM has its figures" "$running" "'state': 'running'"

# libvirtd gone: the host says so and every row is stale
kg_stop "$LV_PID" KILL
all_stale() {
    kg_json_get "$(decoded)" "d['libvirt_ok']==False and len(d['vms'])==2 and all(r['stale'] for r in d['vms'])" |
        grep -qx True
}
kg_wait_for 15 all_stale && kg_pass "libvirt away: libvirt_ok false, every row stale" ||
    kg_fail "not stale: $(decoded)"
kg_stop "$AGENT_PID"
kg_assert_eq "exit 0 (summary on)" 0 "$KG_EXIT_STATUS"

# summary = false: none, and the one left on the broker is cleared at connect
kg_agent_start agent2 --interval 1s --summary false
kg_wait_for 10 kg_no_retained "$S" && kg_pass "summary = false clears the summary left on the broker" ||
    kg_fail "a summary is still retained with summary = false"
"$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -q 1 -t "$P/#" -v > "$KG_TMP/stream2" 2>>"$KG_TMP/sub.log" &
SUB_PID=$!
KG_PIDS="$KG_PIDS $SUB_PID"
metrics() { grep -c "^$P/metrics {" "$KG_TMP/stream2"; }
three_metrics() { [ "$(metrics)" -ge 3 ]; }
kg_wait_for 15 three_metrics || kg_fail "the agent stopped publishing its metrics"
kg_stop "$SUB_PID"
kg_assert_eq "summary = false publishes no summary" 0 "$(grep -c "^$S {" "$KG_TMP/stream2")"
kg_stop "$AGENT_PID"
kg_assert_eq "exit 0 (summary off)" 0 "$KG_EXIT_STATUS"

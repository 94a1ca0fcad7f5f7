#!/bin/sh
# SPDX-License-Identifier: MIT
# kvmgrid-top without a terminal, against a private mosquitto: --once prints
# the table of what kg-wall-gridpub and mosquitto_pub published (exact rows,
# sorted and filtered, a hostile name as displays show it, offline and stale
# marks), --json the same VMs as JSON lines (every published figure, exact),
# --json alone streams the VMs that change; exit 3 when no retained state comes
# (no broker), 0 with an empty table on an empty broker, 2 on bad flags, 1
# without a terminal.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

TOP=$(kg_bin kvmgrid-top)
GRIDPUB=$(kg_bin kg-wall-gridpub)

# ---- usage and configuration errors: exit 2, nothing else runs
st=0; "$TOP" --bogus >"$KG_TMP/out.txt" 2>&1 || st=$?
kg_assert_eq "unknown flag: exit 2" 2 "$st"
kg_assert_contains "unknown flag named" "$(cat "$KG_TMP/out.txt")" "option '--bogus' (try --help)"
st=0; "$TOP" --sort sideways --once >"$KG_TMP/out.txt" 2>&1 || st=$?
kg_assert_eq "bad sort key: exit 2" 2 "$st"
st=0; "$TOP" --broker ftp://127.0.0.1:1 --once >"$KG_TMP/out.txt" 2>&1 || st=$?
kg_assert_eq "bad broker URI: exit 2" 2 "$st"
printf 'broker = tcp://127.0.0.1:1\nalert_cpu = 90 clear 95\n' >"$KG_TMP/bad.conf"
st=0; "$TOP" --config "$KG_TMP/bad.conf" --once >"$KG_TMP/out.txt" 2>&1 || st=$?
kg_assert_eq "bad alert rule in a file: exit 2" 2 "$st"
kg_assert_contains "bad rule: file:line: key" "$(cat "$KG_TMP/out.txt")" "bad.conf:2: alert_cpu:"
st=0; "$TOP" stray >"$KG_TMP/out.txt" 2>&1 || st=$?
kg_assert_eq "an operand: exit 2" 2 "$st"
st=0; "$TOP" --help >"$KG_TMP/out.txt" 2>&1 || st=$?
kg_assert_eq "--help: exit 0" 0 "$st"
kg_assert_contains "--help lists the keys" "$(cat "$KG_TMP/out.txt")" "--alert-cpu"
kg_assert_contains "--help says the exit status" "$(cat "$KG_TMP/out.txt")" "3 --once or"
st=0; "$TOP" --version >"$KG_TMP/out.txt" 2>&1 || st=$?
kg_assert_eq "--version: exit 0" 0 "$st"
# the wall's configuration: its client and alert keys, the rest left to the wall
st=0; "$TOP" --wall-config "$KG_SOURCE_DIR/viewer/kvmgrid-wall.conf.example" --check \
    >"$KG_TMP/out.txt" 2>&1 || st=$?
kg_assert_eq "--wall-config: the wall's example config" 0 "$st"
st=0; "$TOP" --config "$KG_SOURCE_DIR/viewer/kvmgrid-wall.conf.example" --check \
    >"$KG_TMP/out.txt" 2>&1 || st=$?
kg_assert_eq "--config: the wall's keys are not top's" 2 "$st"
printf 'metric = cpu\nalert_mem = 95 clear 99\n' >"$KG_TMP/wall.conf"
st=0; "$TOP" --wall-config "$KG_TMP/wall.conf" --once >"$KG_TMP/out.txt" 2>&1 || st=$?
kg_assert_eq "--wall-config: a bad rule there: exit 2" 2 "$st"
kg_assert_contains "--wall-config: named in the wall's file" "$(cat "$KG_TMP/out.txt")" "wall.conf:2: alert_mem:"

# ---- no broker at all: no retained state, exit 3 after --timeout
nobroker=$(kg_free_port)
t0=$(date +%s)
st=0; "$TOP" --broker "tcp://127.0.0.1:$nobroker" --once --timeout 1s \
    >"$KG_TMP/out.txt" 2>"$KG_TMP/err.txt" || st=$?
kg_assert_eq "no broker: exit 3" 3 "$st"
kg_assert_eq "no broker: nothing on stdout" "" "$(cat "$KG_TMP/out.txt")"
kg_assert_contains "no broker: says why" "$(cat "$KG_TMP/err.txt")" "gave up waiting for the retained state"
kg_assert_le "no broker: gave up after about the timeout" "$(($(date +%s) - t0))" 5
st=0; "$TOP" --broker "tcp://127.0.0.1:$nobroker" --json --timeout 1s >/dev/null 2>&1 || st=$?
kg_assert_eq "no broker, --json: exit 3" 3 "$st"

kg_broker_start
B=$KG_BROKER_URI

# ---- an empty broker: its (empty) retained state arrives, the table is empty
st=0; "$TOP" --broker "$B" --once >"$KG_TMP/out.txt" 2>"$KG_TMP/err.txt" || st=$?
kg_assert_eq "empty broker: exit 0" 0 "$st"
kg_assert_eq "empty broker: the heading alone" \
    "HOST VM   STATE         CPU%   MEM%       DISK        NET STEAL%     AGE MARKS" \
    "$(cat "$KG_TMP/out.txt")"
st=0; "$TOP" --broker "$B" --once --json >"$KG_TMP/out.txt" 2>/dev/null || st=$?
kg_assert_eq "empty broker, --json --once: exit 0, no lines" "0 0" "$st $(wc -l <"$KG_TMP/out.txt")"

# ---- the grid: VM j of hv000i at (i*7 + j*13) % 101 % CPU, as much memory,
# disk read at CPU x 1 MB/s, network rx at CPU x 100 kB/s, steal CPU / 10
"$GRIDPUB" --broker "$B" --hosts 2 --vms 3 2>>"$KG_TMP/gridpub.log" || kg_die "gridpub failed"
kg_pub kvmgrid/hv0001/status offline -r
# a hostile name: '/', a space and an accent in the host, a control byte in the VM;
# the agent says the VM's figures are stale
kg_pub 'kvmgrid/web%2F02%20café/vm/x%01y' \
    "$("$GRIDPUB" --print-vm 'web/02 café' "$(printf 'x\001y')" 97 running stale)" -r
kg_pub 'kvmgrid/web%2F02%20café/vm/中z' \
    "$("$GRIDPUB" --print-vm 'web/02 café' '中z' 50 paused)" -r

# the table, AGE masked (it follows the clock): "0s", "12m", "3h05m", "372d05h"
mask_age() { sed -E 's/ +[0-9]+[smhd]([0-9]{2}[mh])?( |$)/ (age)\2/'; }
st=0; "$TOP" --broker "$B" --once --sort name >"$KG_TMP/table.txt" 2>>"$KG_TMP/top.log" || st=$?
kg_assert_eq "--once: exit 0" 0 "$st"
# "x\x01y" sets the VM column's width (7); 中 takes two terminal columns
cat >"$KG_TMP/want.txt" <<'TABLE'
HOST        VM     STATE         CPU%   MEM%       DISK        NET STEAL%     AGE MARKS
hv0000      vm000  running        0.0    0.0      0 B/s      0 B/s    0.0 (age)
hv0000      vm001  running       13.0   13.0    13 MB/s   1.3 MB/s    1.3 (age)
hv0000      vm002  running       26.0   26.0    26 MB/s   2.6 MB/s    2.6 (age)
hv0001      vm000  running        7.0    7.0     7 MB/s   700 kB/s    0.7 (age) ! OFFLINE
hv0001      vm001  running       20.0   20.0    20 MB/s     2 MB/s    2.0 (age) ! OFFLINE
hv0001      vm002  running       33.0   33.0    33 MB/s   3.3 MB/s    3.3 (age) ! OFFLINE
web/02 café x\x01y running       97.0   97.0    97 MB/s   9.7 MB/s    9.7 (age) ! STALE MEM
web/02 café 中z    paused        50.0   50.0    50 MB/s     5 MB/s    5.0 (age)
TABLE
mask_age <"$KG_TMP/table.txt" >"$KG_TMP/got.txt"
if cmp -s "$KG_TMP/want.txt" "$KG_TMP/got.txt"; then kg_pass "--once: the exact table"
else kg_fail "--once: table differs:$(diff "$KG_TMP/want.txt" "$KG_TMP/got.txt")"; fi
# Fresh: published just before (a few seconds on a loaded machine), shown in seconds.
if sed -n 2p "$KG_TMP/table.txt" | grep -Eq ' [0-9]s( |$)'; then kg_pass "--once: ages of fresh VMs in seconds"
else kg_fail "--once: ages of fresh VMs in seconds: $(sed -n 2p "$KG_TMP/table.txt")"; fi

# sorted by CPU (largest first), then reversed; a host filter, a glob, alerts only
# the VMs in the order --json prints them (the table's, by --sort), names displayed
rows() {
    "$TOP" --broker "$B" --once --json "$@" 2>>"$KG_TMP/top.log" | python3 -c '
import json, sys
print(" ".join(json.loads(l)["name"].replace("\x01", "\\x01") for l in sys.stdin))'
}
kg_assert_eq "--sort cpu" "x\\x01y 中z vm002 vm002 vm001 vm001 vm000 vm000" "$(rows --sort cpu)"
kg_assert_eq "--sort cpu --reverse" "vm000 vm000 vm001 vm001 vm002 vm002 中z x\\x01y" \
    "$(rows --sort cpu --reverse)"
kg_assert_eq "--host hv0001" "vm002 vm001 vm000" "$(rows --host hv0001)"
kg_assert_eq "--host 'HV*0'" "vm002 vm001 vm000" "$(rows --host 'HV*0' --sort cpu)"
kg_assert_eq "--host café" "x\\x01y 中z" "$(rows --host café)"
kg_assert_eq "--alerts-only" "x\\x01y vm002 vm001 vm000" "$(rows --alerts-only --sort name --reverse)"
kg_assert_eq "--host nothing" "" "$(rows --host nothing)"

# ---- JSON lines: the published figures, exact, and the marks
st=0; "$TOP" --broker "$B" --once --json >"$KG_TMP/lines.json" 2>>"$KG_TMP/top.log" || st=$?
kg_assert_eq "--once --json: exit 0" 0 "$st"
kg_assert_eq "--once --json: one line per VM" 8 "$(wc -l <"$KG_TMP/lines.json")"
python3 - "$KG_TMP/lines.json" >"$KG_TMP/json-check.txt" 2>&1 <<'PY' || kg_fail "JSON lines: $(cat "$KG_TMP/json-check.txt")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
seen = {(r["host"], r["name"]): r for r in rows}
assert len(seen) == 8, seen.keys()
for i in range(2):
    for j in range(3):
        r = seen[("hv%04d" % i, "vm%03d" % j)]
        cpu = (i * 7 + j * 13) % 101
        want = {"schema": 1, "state": "running", "vcpus": 2, "cpu_pct": cpu,
                "cpu_host_pct": cpu / 4, "steal_pct": round(cpu / 10, 3), "mem_used_pct": cpu,
                "mem_cur_kib": 2097152, "mem_max_kib": 4194304, "mem_rss_kib": 1500000,
                "mem_used_kib": round(2097152 * cpu / 100),
                "disk_rd_bytes_per_s": cpu * 1000000, "disk_wr_bytes_per_s": 0,
                "net_rx_bytes_per_s": cpu * 100000, "net_tx_bytes_per_s": 0,
                "stale": False, "offline": i == 1, "alerts": ["OFFLINE"] if i == 1 else []}
        for k, v in want.items():
            assert r[k] == v, (i, j, k, r[k], v)
        assert 0 <= r["age_s"] < 60, r["age_s"]
        assert "disks" not in r and "nets" not in r
r = seen[("web/02 café", "x\x01y")]
assert r["stale"] is True and r["alerts"] == ["STALE", "MEM"] and r["offline"] is False, r
assert r["ts"] == 1764420000000 and r["cpu_pct"] == 97, r
assert r["age_s"] > 86400, r
r = seen[("web/02 café", "中z")]
assert r["state"] == "paused" and r["alerts"] == [] and r["cpu_pct"] == 50, r
print("ok")
PY
kg_assert_eq "--json: the published figures" ok "$(tail -n 1 "$KG_TMP/json-check.txt")"

# ---- --json alone: the snapshot, then a line for each VM that changes
kg_spawn topjson "$TOP" --broker "$B" --json --delay 0.2 --sort name
JPID=$KG_LAST_PID
# stdout and stderr share the log: the JSON lines are those that start with '{'
jlines() { grep -c '^{' "$KG_TMP/topjson.log"; }
has_lines() { [ "$(jlines)" -ge "$1" ]; }
kg_wait_for 10 has_lines 8 || kg_fail "--json: no snapshot"
kg_pub kvmgrid/hv0000/vm/vm001 "$("$GRIDPUB" --print-vm hv0000 vm001 61 running)" -r
kg_wait_for 10 grep -q '"name":"vm001".*"cpu_pct":61' "$KG_TMP/topjson.log" ||
    kg_fail "--json: the change did not stream"
kg_assert_eq "--json: the snapshot, then only the VM that changed" 9 "$(jlines)"
kg_stop "$JPID"
kg_assert_eq "--json: SIGTERM ends it with 0" 0 "$KG_EXIT_STATUS"

# ---- the live table needs a terminal: exit 1 with a hint, when piped
st=0; "$TOP" --broker "$B" </dev/null >"$KG_TMP/out.txt" 2>"$KG_TMP/err.txt" || st=$?
kg_assert_eq "no terminal: exit 1" 1 "$st"
kg_assert_contains "no terminal: the hint" "$(cat "$KG_TMP/err.txt")" "use --once or --json"

# ---- a reader that goes away (a pipe into head) is not a failure
st=0; "$TOP" --broker "$B" --json 2>>"$KG_TMP/top.log" | head -n 1 >"$KG_TMP/one.txt" || st=$?
kg_assert_eq "--json | head -n 1: one line" 1 "$(wc -l <"$KG_TMP/one.txt")"

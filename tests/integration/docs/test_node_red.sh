#!/bin/sh
# SPDX-License-Identifier: MIT
# docs/integrations/node-red-cpu-alert.json in the real Node-RED, headless (no
# HTTP server at all), against a private broker: the flow exactly as shipped,
# with one of its tab's settings changed as its readers are told to (CPU_FOR_S,
# 60 s, shortened to FOR_S so that the test takes seconds). Node-RED is the one
# third_party/install.sh test installs from third_party/node-red's lock into
# .cache/node-red; without it the test fails.
#
# Two hosts feed it. hv1 is the real kvmgrid-agent on libvirt's test driver,
# whose domains' CPU time grows with wall time (docs/PLATFORM.md): its two
# running 1-vCPU VMs are at 100 % and must fire, its 2-vCPU ones at 50 %, the
# paused and shut-off ones (no cpu_pct) and every first sample (no cpu_pct)
# must not. hv-lab is published by the test: payloads from libkvmgrid's encoder
# (kg-wall-gridpub --print-vm) with sample times of its choosing, so that when
# an alert fires and resolves is exact and does not depend on this machine's
# speed: a sustained VM, a spiking one, hysteresis, a removal, a VM that stops,
# an absent cpu_pct, stale figures, another schema version, a payload that is
# not JSON, and a name escaped in its topic.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"

FLOW=$KG_SOURCE_DIR/docs/integrations/node-red-cpu-alert.json
RED_JS=${KG_NODE_RED:-$KG_SOURCE_DIR/.cache/node-red/node_modules/node-red/red.js}
GRIDPUB=$(kg_bin kg-wall-gridpub)
FOR_S=5
command -v node >/dev/null || kg_die "node is missing (third_party/install.sh test: nodejs)"
[ -f "$RED_JS" ] || kg_die "Node-RED is missing: no $RED_JS (third_party/install.sh test installs it)"
command -v jq >/dev/null || kg_die "jq is missing (third_party/install.sh test)"
kg_log "Node-RED $(node -p 'require(process.argv[1]).version' "${RED_JS%/red.js}/package.json") on Node.js $(node --version)"

# Debian 12's Node.js (18.19 at its release) must run this Node-RED, whatever runs
# here (NodeSource's 20 on kvmgrid's CI): every installed package's "engines" must
# admit it. One does not and is known to be harmless: plain JavaScript, and the
# whole of this test passed in a bare Debian 12 root on Debian's nodejs and npm.
# A new lock that adds another needs such a run again before it goes on the list.
engines=$(node - "${RED_JS%/node-red/red.js}" 18.19.0 <<'EOF'
const fs = require("fs"), path = require("path");
const [top, want] = process.argv.slice(2);
const semver = require(path.resolve(top, "semver"));
const known = ["validate-npm-package-name@7.0.2"];
const bad = [];
(function walk(dir) {
    for (const e of fs.readdirSync(dir)) {
        if (e.startsWith(".")) continue;
        const d = path.join(dir, e);
        if (e.startsWith("@")) { walk(d); continue; }
        const f = path.join(d, "package.json");
        if (!fs.existsSync(f)) continue;
        const p = JSON.parse(fs.readFileSync(f, "utf8"));
        const range = p.engines && p.engines.node;
        if (range && !semver.satisfies(want, range) && !known.includes(p.name + "@" + p.version))
            bad.push(p.name + "@" + p.version + " (node " + range + ")");
        if (fs.existsSync(path.join(d, "node_modules"))) walk(path.join(d, "node_modules"));
    }
})(top);
console.log(bad.join(", "));
EOF
) || kg_die "could not read the engines of $(dirname "${RED_JS%/red.js}")"
kg_assert_eq "every installed package runs on Debian 12's Node.js 18.19 (engines)" "" "$engines"

# The shipped flow with CPU_FOR_S set to FOR_S on its tab; its other settings
# as shipped (CPU_ALERT_PCT, CPU_CLEAR_PCT, ALERT_PREFIX ...) in $KG_TMP/settings.env.
python3 - "$FLOW" "$KG_TMP/flows.json" "$FOR_S" >"$KG_TMP/settings.env" <<'EOF' \
    || kg_die "docs/integrations/node-red-cpu-alert.json is not the flow it should be"
import json, sys
flow = json.load(open(sys.argv[1]))
tabs = [n for n in flow if n["type"] == "tab"]
assert len(tabs) == 1, "one tab"
env = {e["name"]: e for e in tabs[0]["env"]}
env["CPU_FOR_S"]["value"] = sys.argv[3]
for n in ("CPU_ALERT_PCT", "CPU_CLEAR_PCT", "ALERT_PREFIX", "VM_TOPIC"):
    print("%s='%s'" % (n, env[n]["value"]))
json.dump(flow, open(sys.argv[2], "w"), indent=1)
EOF
. "$KG_TMP/settings.env"
kg_assert_eq "the flow reads the agent's default prefix" "kvmgrid/+/vm/+" "$VM_TOPIC"

# Headless on loopback: no editor, no admin API, no port; nothing written
# outside $KG_TMP; no telemetry, update checks, projects or module installs.
mkdir -p "$KG_TMP/node-red"
cat >"$KG_TMP/settings.js" <<EOF
module.exports = {
    flowFile: "$KG_TMP/flows.json",
    userDir: "$KG_TMP/node-red",
    uiHost: "127.0.0.1",
    httpAdminRoot: false,
    httpNodeRoot: false,
    credentialSecret: false,
    diagnostics: { enabled: false, ui: false },
    runtimeState: { enabled: false, ui: false },
    telemetry: { enabled: false, updateNotification: false },
    editorTheme: { projects: { enabled: false } },
    externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
    logging: { console: { level: "info", metrics: false, audit: false } },
};
EOF

kg_broker_start
kg_spawn alerts "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -q 1 -t "$ALERT_PREFIX/+/+/cpu" -v
ALERTS=$KG_TMP/alerts.log
kg_agent_start agent --libvirt-uri "test://$NODE_XML" --interval 1s
# The broker's address reaches the flow through the environment: the tab's
# MQTT_PORT reads KVMGRID_MQTT_PORT, and its MQTT_HOST, with KVMGRID_MQTT_HOST
# unset, falls back to 127.0.0.1 (both ways of its JSONata default).
kg_spawn nodered env -u KVMGRID_MQTT_HOST HOME="$KG_TMP/node-red" KVMGRID_MQTT_PORT="$KG_PORT" \
    node "$RED_JS" --settings "$KG_TMP/settings.js"
RED_PID=$KG_LAST_PID
connected() { grep -q "Connected to broker: mqtt://127.0.0.1:$KG_PORT" "$KG_TMP/nodered.log"; }
kg_wait_for 60 connected || kg_die "Node-RED did not connect to the broker at 127.0.0.1:$KG_PORT"
kg_pass "Node-RED runs the flow and connected to 127.0.0.1:$KG_PORT (the default host, the port from the environment)"
kg_assert_contains "headless: no HTTP server" "$(cat "$KG_TMP/nodered.log")" "headless mode"

# summary_is PYEXPR: the flow's retained summary (d) satisfies PYEXPR.
summary_is() {
    _s=$(kg_retained_payload "$ALERT_PREFIX/summary" 1)
    [ -n "$_s" ] && [ "$(kg_json_get "$_s" "$1" 2>/dev/null)" = "True" ]
}
# The agent's 7 domains, 4 of them running with a CPU figure.
kg_wait_for 30 summary_is "d['hosts'].get('hv1', {}).get('measured') == 4" \
    || kg_die "the flow did not see hv1's VMs: $(kg_retained_payload "$ALERT_PREFIX/summary" 1)"
kg_pass "the flow sees the real agent's VMs: $(kg_json_get "$(kg_retained_payload "$ALERT_PREFIX/summary" 1)" "d['hosts']['hv1']")"

# hv-lab's samples, one line per VM: its topic level (the name in the payload is
# the level with %2F read as '/'), then SECONDS:CPU[:STATE[:stale|nocpu|schema2]]
# for each sample, at T0 + SECONDS (A-B: one a second). Payloads from
# libkvmgrid's encoder (kg-wall-gridpub --print-vm); each VM's are published
# retained and in order, as the agent does; the order between VMs does not matter.
T0=$(( $(date +%s) * 1000 - 600000 ))
cat >"$KG_TMP/lab.txt" <<'EOF'
# fires at 5 s; at 87 (between CLEAR and ALERT) it keeps firing, at 85 (CLEAR) it resolves
hot 0-5:97 6:87 7:85
# over the line for 2 s at most (3 samples), twice: never fires
spike 0-2:97 3:30 4-6:97 7:30
# fires at 5 s; a sample without cpu_pct (not 0) changes nothing; removed below
web%2F01 0-5:97 6:0:running:nocpu
# fires at 5 s; shut off at 6 s: resolves
stop 0-5:97 6:0:shutoff
# never: running without a CPU figure; old figures again and again; schema 2
nocpu 0-8:0:running:nocpu
stale 0-8:97:running:stale
v2 0-8:97:running:schema2
EOF
mkdir -p "$KG_TMP/lab"
python3 - "$KG_TMP/lab.txt" "$KG_TMP/lab" "$GRIDPUB" "$T0" <<'EOF' || kg_die "hv-lab's samples could not be made"
import json, subprocess, sys
spec, out, gridpub, t0 = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
for line in open(spec):
    if not line.strip() or line.startswith("#"):
        continue
    level, *samples = line.split()
    name = level.replace("%2F", "/")
    with open("%s/%s" % (out, level), "w") as f:
        for smp in samples:
            secs, cpu, state, how = (smp.split(":") + ["running", ""])[:4]
            first, _, last = secs.partition("-")
            p = json.loads(subprocess.check_output([gridpub, "--print-vm", "hv-lab", name, cpu, state]))
            for sec in range(int(first), int(last or first) + 1):
                p["ts"] = t0 + sec * 1000
                if how == "stale":
                    p["stale"], p["age_s"] = True, 30
                elif how == "nocpu":
                    for k in ("cpu_pct", "cpu_host_pct", "steal_pct"):
                        p.pop(k, None)
                elif how == "schema2":
                    p["schema"] = 2
                f.write(json.dumps(p, ensure_ascii=False, separators=(",", ":")) + "\n")
EOF
for f in "$KG_TMP"/lab/*; do
    "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PORT" -t "kvmgrid/hv-lab/vm/${f##*/}" -q 1 -r -l <"$f" \
        || kg_fail "mosquitto_pub of ${f##*/} failed"
done
kg_pub kvmgrid/hv-lab/vm/web%2F01 "" -q 1 -r    # removed: resolves
kg_pub kvmgrid/hv-lab/vm/junk "this is not JSON" -q 1 -r
kg_log "hv-lab: 9 s of samples published"

# Every alert expected: three on hv-lab that fire and resolve, hv1's two hot VMs.
count() { grep -c "$1" "$ALERTS" || true; }
all_seen() {
    [ "$(count '^kvmgrid-alerts/hv-lab/.*"resolved"')" -ge 3 ] && [ "$(count '^kvmgrid-alerts/hv1/')" -ge 2 ]
}
kg_wait_for 30 all_seen || kg_fail "not every expected alert came: $(cat "$ALERTS")"
# hv1's 2-vCPU VMs have been measured as long as its hot ones: none of them,
# nor anything else, may have fired. The summary that says so is newer than
# every message above.
kg_wait_for 15 summary_is "d['hosts'].get('hv-lab', {}).get('vms') == 5 and d['hosts']['hv1'] == {'vms': 7, 'measured': 4, 'firing': 2}" \
    || kg_fail "summary: $(kg_retained_payload "$ALERT_PREFIX/summary" 1)"
kg_pass "summary: $(kg_retained_payload "$ALERT_PREFIX/summary" 1)"
sleep 1   # an alert that would come last, after the summary, is in the log too

if python3 - "$ALERTS" "$T0" "$FOR_S" "$CPU_ALERT_PCT" "$CPU_CLEAR_PCT" \
    "$KG_SOURCE_DIR/docs/integrations/node-red.md" "$(kg_retained_payload "$ALERT_PREFIX/summary" 1)" \
    >"$KG_TMP/check.out" 2>&1 <<'EOF'
import json, re, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
t0, for_ms, alert, clear = int(sys.argv[2]), int(sys.argv[3]) * 1000, float(sys.argv[4]), float(sys.argv[5])
got = {}
for l in lines:
    topic, payload = l.split(" ", 1)
    got.setdefault(topic, []).append(json.loads(payload))
fails = []
def check(what, cond):
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond: fails.append(what)
def lab(level, name, *want):
    t = "kvmgrid-alerts/hv-lab/%s/cpu" % level
    a = got.pop(t, [])
    check("%s: %s" % (t, " then ".join(w[0] for w in want)),
          [x["state"] for x in a] == [w[0] for w in want])
    for x, (state, ts, reason) in zip(a, want):
        check("%s %s: host, vm, alert" % (level, state),
              (x["host"], x["vm"], x["alert"]) == ("hv-lab", name, "cpu"))
        if ts is not None:
            check("%s %s at its sample of +%d ms (got %+d)" % (level, state, ts, x["ts"] - t0),
                  x["ts"] == t0 + ts)
        check("%s %s: since the first sample over the line" % (level, state), x["since"] == t0)
        check("%s %s: %s" % (level, state, "reason " + reason if reason else "no reason"),
              x.get("reason") == reason)
    return a
hot = lab("hot", "hot", ("firing", for_ms, None), ("resolved", 7000, "below"))
if len(hot) == 2:
    check("hot fires at %s %% over %s for its duration" % (hot[0].get("cpu_pct"), alert),
          hot[0].get("cpu_pct") == 97 and hot[0]["threshold_pct"] == alert and hot[0]["for_s"] * 1000 == for_ms)
    check("hot resolves at 85 %%, at or below %s, not at 87" % clear,
          hot[1].get("cpu_pct") == 85 and hot[1]["threshold_pct"] == clear == 85)
    # node-red.md's examples: an alert firing, one resolved, the summary: the
    # same fields as the real ones
    doc = open(sys.argv[6], encoding="utf-8").read()
    ex = [json.loads(l) for b in re.findall(r"```json\n(.*?)```", doc, re.S) for l in b.splitlines()]
    summary = json.loads(sys.argv[7])
    check("node-red.md: the examples are an alert firing, one resolved and the summary",
          [e.get("state", "summary") for e in ex] == ["firing", "resolved", "summary"])
    if len(ex) == 3:
        for e, real in zip(ex, hot + [summary]):
            check("node-red.md's %s example has the fields of the real one" % e.get("state", "summary"),
                  sorted(e) == sorted(real))
# removed: no sample, so its time is the flow's clock's
lab("web%2F01", "web/01", ("firing", for_ms, None), ("resolved", None, "removed"))
lab("stop", "stop", ("firing", for_ms, None), ("resolved", 6000, "not-running"))
for level, name in (("db%232", "db#2"), ("grüße-虚拟机", "grüße-虚拟机")):
    a = got.pop("kvmgrid-alerts/hv1/%s/cpu" % level, [])
    check("hv1/%s (real agent, 100 %%): fires once" % level, [x["state"] for x in a] == ["firing"])
    if a:
        x = a[0]
        check("hv1/%s: %s %% after %d ms over the line" % (level, x.get("cpu_pct"), x["ts"] - x["since"]),
              x["host"] == "hv1" and x["vm"] == name and x["cpu_pct"] > alert and x["ts"] - x["since"] >= for_ms)
check("no other alert (spike, nocpu, stale, v2, junk; hv1's 50 %%, paused and shut-off VMs): %s"
      % sorted(got), not got)
sys.exit(1 if fails else 0)
EOF
then
    while read -r line; do kg_pass "${line#ok: }"; done <"$KG_TMP/check.out"
else
    kg_fail "alerts: $(grep -v '^ok: ' "$KG_TMP/check.out")"
fi

# node-red.md's blocks, each run as printed. The broker's address comes from the
# Mosquitto clients' option files, as the page tells its readers; the blocks name none.
DOC=$KG_SOURCE_DIR/docs/integrations/node-red.md
mkdir -p "$KG_TMP/config"
printf -- '-h 127.0.0.1\n-p %s\n' "$KG_PORT" >"$KG_TMP/config/mosquitto_sub"
cp "$KG_TMP/config/mosquitto_sub" "$KG_TMP/config/mosquitto_pub"
# block NAME: the sh block after "<!-- recipe: NAME -->" in node-red.md
block() { kg_doc_block "$DOC" "$1"; }
# doc_spawn NAME: block NAME in the background, its output in $KG_TMP/NAME.log
doc_spawn() {
    _text=$(block "$1")
    [ -n "$_text" ] || kg_die "no block $1 in node-red.md"
    kg_spawn "$1" env XDG_CONFIG_HOME="$KG_TMP/config" sh -c "$_text"
}
doc_spawn nodered-watch; WATCH_PID=$KG_LAST_PID
doc_spawn nodered-firing; FIRING_PID=$KG_LAST_PID
# alerts are not retained: the watchers must listen before anything fires
probe='{"host":"probe","vm":"probe","alert":"cpu","state":"firing","cpu_pct":0,"since":0,"ts":0}'
listening() {
    kg_pub "$ALERT_PREFIX/probe/probe/cpu" "$probe" -q 1
    grep -q probe "$KG_TMP/nodered-watch.log" && grep -q probe "$KG_TMP/nodered-firing.log"
}
kg_wait_for 20 listening || kg_fail "node-red.md's watchers print nothing"
kg_adopt_children "$WATCH_PID"
kg_adopt_children "$FIRING_PID"
text=$(block nodered-fire)
[ -n "$text" ] || kg_die "no block nodered-fire in node-red.md"
XDG_CONFIG_HOME="$KG_TMP/config" sh -c "$text" >"$KG_TMP/nodered-fire.log" 2>&1
kg_assert_eq "node-red.md's firing by hand: exit status" 0 "$?"
resolved() { grep -q '^kvmgrid-alerts/hv-test/busy/cpu .*"resolved"' "$KG_TMP/nodered-watch.log"; }
kg_wait_for 20 resolved || kg_fail "firing by hand: no resolved alert for hv-test/busy"
w=$(grep '^kvmgrid-alerts/hv-test/busy/cpu ' "$KG_TMP/nodered-watch.log")
kg_assert_eq "watch: hv-test/busy fired, then resolved when removed" \
    "firing resolved/removed" "$(printf '%s\n' "$w" | while read -r _ p; do
        kg_json_get "$p" "d['state'] + ('/' + d['reason'] if 'reason' in d else '')"; done | xargs)"
first=$(printf '%s\n' "$w" | head -n 1)
kg_assert_eq "watch: fired at the sample $FOR_S s after the first" $((FOR_S * 1000)) \
    "$(kg_json_get "${first#* }" "d['ts'] - d['since']")"
printed() { grep -q '^hv-test/busy 97 % since 20[0-9-]*T[0-9:]*Z$' "$KG_TMP/nodered-firing.log"; }
kg_wait_for 10 printed || kg_fail "only what fires: $(cat "$KG_TMP/nodered-firing.log")"
kg_assert_eq "only what fires: one line, no resolved one" 1 "$(grep -c '^hv-test/' "$KG_TMP/nodered-firing.log")"
kg_stop_tree "$WATCH_PID"
kg_stop_tree "$FIRING_PID"
text=$(block nodered-summary)
sum=$(XDG_CONFIG_HOME="$KG_TMP/config" sh -c "$text" 2>&1)
kg_assert_eq "node-red.md's summary: hv1's VMs" 7 "$(kg_json_get "$sum" "d['hosts']['hv1']['vms']")"

kg_assert_eq "Node-RED still runs" 0 "$(kill -0 "$RED_PID" 2>/dev/null; echo $?)"
kg_assert_not_contains "no error in Node-RED's log" "$(cat "$KG_TMP/nodered.log")" "[error]"
kg_stop "$RED_PID"
kg_assert_eq "Node-RED exits 0 on SIGTERM" 0 "$KG_EXIT_STATUS"
kg_stop "$AGENT_PID"

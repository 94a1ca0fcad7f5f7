#!/bin/sh
# SPDX-License-Identifier: MIT
# The whole system for MINUTES (default 10): a private mosquitto; a private,
# unprivileged libvirtd serving the test driver's shared test:///default node with
# 1000 domains (90 % running, a few paused); kvmgrid-agent on it; domain churn the
# whole time (bench/soak/churn.py: define, start, destroy, undefine, rename, reused
# names, suspend/resume, transient domains; 3 changes a second); a headless
# kvmgrid-wall subscribed to everything (SDL's offscreen driver, running, not
# --screenshot); a kvmgrid-load --listen sent small loads over MQTT every few
# seconds (5 % of one core, 16 MiB, 1 MB/s for a few seconds, a scenario, a stop,
# a refused and a malformed command).
#
# Every minute: one line per process (agent, wall, load listener, mosquitto,
# libvirtd): RSS (and of it anonymous memory), open fds, threads, CPU. At the end:
# each one's growth from the end of the warm-up (minute SOAK_SETTLE_MIN, default 2)
# to the last minute; then, with the churn stopped, the broker's retained VM topics
# against libvirt's domains (names and states) and the wall's VM count against
# libvirt's; the programs' warnings, counted by kind; every process stopped by PID
# and each program's exit status; any sanitizer report in a program's log.
#
# It prints figures and never fails on them. It exits 1 only for a broken run: a
# process died, a program exited non-zero on SIGTERM, a sanitizer reported, the
# retained state or the wall did not match libvirt. Logs are kept then (and with
# SOAK_KEEP=DIR, always, copied there).
#
#   bench/soak/run.sh [MINUTES]
#   KG_BUILD_DIR=build-asan bench/soak/run.sh 10
#
# Environment: KG_BUILD_DIR (default ./build): any build, also one with
# KVMGRID_SANITIZE. ASAN_OPTIONS gets detect_leaks=1 (LeakSanitizer reports at each
# program's exit), quarantine_size_mb=0 and thread_local_quarantine_size_kb=0: ASan
# keeps freed memory in a quarantine (256 MB in all, and 1 MB per thread even when
# the global one is 0), which fills for minutes and reads as growth. Use-after-free
# is then caught only until the memory is reused. Options you set come after these
# and win. SOAK_DOMAINS (1000), SOAK_INTERVAL (agent interval in s, 2), SOAK_CHURN_PER_S
# (3), SOAK_SETTLE_MIN (2), SOAK_KEEP (a directory for the logs and per-minute figures).
set -u
KG_SOURCE_DIR=${KG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KG_BUILD_DIR=${KG_BUILD_DIR:-$KG_SOURCE_DIR/build}
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
. "$KG_SOURCE_DIR/tests/integration/viewer/headless.sh"
LOAD=$(kg_bin kvmgrid-load)
HERE="$KG_SOURCE_DIR/bench/soak"

MINUTES=${1:-10}
N=${SOAK_DOMAINS:-1000}
INTERVAL=${SOAK_INTERVAL:-2}
CHURN_PER_S=${SOAK_CHURN_PER_S:-3}
SETTLE=${SOAK_SETTLE_MIN:-2}
case "$MINUTES$N$INTERVAL$CHURN_PER_S$SETTLE" in
*[!0-9]*) kg_die "MINUTES and the SOAK_* settings are whole numbers" ;;
esac
[ "$MINUTES" -ge 1 ] || kg_die "MINUTES must be at least 1"
if [ "$SETTLE" -ge "$MINUTES" ]; then
    kg_log "a $MINUTES-minute soak: growth counted from minute 0 instead of $SETTLE"
    SETTLE=0
fi

export ASAN_OPTIONS="detect_leaks=1:quarantine_size_mb=0:thread_local_quarantine_size_kb=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$KG_SOURCE_DIR/tests/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
SANITIZE=$(sed -n 's/^KVMGRID_SANITIZE:[A-Z]*=//p' "$KG_BUILD_DIR/CMakeCache.txt" 2>/dev/null)
BROKEN=""
broken() { BROKEN="$BROKEN
  - $*"; kg_log "BROKEN: $*"; }

HOST=soak
NODE=soak-load
P=kvmgrid/$HOST
CMD_T=kvmgrid/$NODE/load/cmd
STATE_T=kvmgrid/$NODE/load/state

echo "Soak: $MINUTES min, $N domains, agent interval ${INTERVAL} s, churn $CHURN_PER_S changes/s"
echo "  build $KG_BUILD_DIR (sanitize: ${SANITIZE:-none}); $(nproc) CPUs; $(uname -r)"
[ -n "$SANITIZE" ] && echo "  ASAN_OPTIONS=$ASAN_OPTIONS"

# --- broker, libvirtd and the domains -------------------------------------------
kg_broker_start
kg_libvirtd_start /default
# test:///default keeps its domains only while some connection holds it open: this
# one does from before the first define until the end (and logs every event).
kg_spawn lvevents virsh -c "$LV_URI" event --all --loop --timestamp
EVENTS_PID=$KG_LAST_PID
virsh_() { virsh -q -c "$LV_URI" "$@"; }
holding() { [ -n "$(find "/proc/$EVENTS_PID/fd" -lname 'socket:*' 2>/dev/null)" ]; }
kg_wait_for 10 holding || kg_die "virsh event did not connect to libvirtd"
python3 - "$N" "$KG_TMP/domains" >"$KG_TMP/define.cmds" <<'EOP' || kg_die "cannot write the domains"
import os, sys
n, d = int(sys.argv[1]), sys.argv[2]
os.makedirs(d, exist_ok=True)
cmds = ["destroy test", "undefine test"]  # the driver's own sample domain
for i in range(n):
    path = f"{d}/vm-{i:04d}.xml"
    with open(path, "w") as f:
        f.write(f"""<domain type='test'><name>vm-{i:04d}</name>
<memory>1048576</memory><currentMemory>524288</currentMemory><vcpu>2</vcpu>
<os><type>hvm</type></os><devices>
<disk type='file' device='disk'><source file='/soak/{i}.img'/><target dev='vda'/></disk>
<interface type='network'><mac address='52:54:00:00:{i >> 8 & 255:02x}:{i & 255:02x}'/><source network='default'/></interface>
<memballoon model='virtio'/></devices></domain>
""")
    cmds.append(f"define {path}")
for i in range(n * 9 // 10):
    cmds.append(f"start vm-{i:04d}")
    if i % 50 == 49:
        cmds.append(f"suspend vm-{i:04d}")
print("\n".join(cmds))
EOP
t0=$(date +%s%N)
virsh_ <"$KG_TMP/define.cmds" >/dev/null 2>"$KG_TMP/define.err"
[ -s "$KG_TMP/define.err" ] && kg_die "defining the domains: $(head -n 3 "$KG_TMP/define.err")"
have=$(virsh_ list --all --name | grep -c .)
[ "$have" -eq "$N" ] || kg_die "libvirt holds $have domains, not $N"
kg_log "$N domains defined and started in $(( ($(date +%s%N) - t0) / 1000000 )) ms"

# --- the programs ------------------------------------------------------------------
retained_count() { kg_retained_topics "$P/vm/+" | grep -c .; }
all_retained() { [ "$(retained_count)" -eq "$N" ]; }
t0=$(date +%s)
kg_spawn agent "$AGENT" --libvirt-uri "$LV_URI" --broker "$KG_BROKER_URI" --host "$HOST" \
    --interval "${INTERVAL}s"
AGENT_PID=$KG_LAST_PID
kg_wait_for 120 all_retained || kg_die "the agent did not publish all $N domains in 120 s ($(retained_count))"
kg_log "agent: all $N domains retained $(( $(date +%s) - t0 )) s after its start"

SCEN=$KG_TMP/scenarios
mkdir -p "$SCEN" "$KG_TMP/disk"
cat >"$SCEN/soak.json" <<'JSON'
{"name": "soak", "steps": [
  {"duration_s": 2, "loads": [{"kind": "cpu", "workers": 1, "pct": 5}, {"kind": "mem", "mib": 8}]},
  {"loads": [{"kind": "disk", "mode": "write", "mb_per_s": 1, "block_kib": 256, "duration_s": 2}]}
]}
JSON
kg_spawn load "$LOAD" --listen --broker "$KG_BROKER_URI" --node "$NODE" --scenario-dir "$SCEN" \
    --disk-dir "$KG_TMP/disk" --max-workers 1 --max-pct 10 --max-mib 64 --max-mb-per-s 2 \
    --max-disk-bytes 16777216 --max-duration 2m --state-interval 1s
LOAD_PID=$KG_LAST_PID
load_state() { kg_retained_payload "$STATE_T" 1; }
load_idle() { load_state | grep -q '"status":"idle"'; }
kg_wait_for 20 load_idle || kg_die "the load listener never said idle"
# every state it publishes, for the count of loads run and commands refused
kg_spawn loadstate "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t "$STATE_T"
STATESUB_PID=$KG_LAST_PID

kg_spawn wall "$WALL" --broker "$KG_BROKER_URI" --size 1280x720 --interval "${INTERVAL}s"
WALL_PID=$KG_LAST_PID
kg_wait_for 60 grep -q 'retained state: .* applied' "$KG_TMP/wall.log" \
    || kg_die "the wall did not apply the retained state in 60 s"
kg_log "wall: $(grep -o 'retained state: .*' "$KG_TMP/wall.log" | head -n 1)"

kg_spawn churn python3 "$HERE/churn.py" "$LV_URI" "$KG_TMP" --per-s "$CHURN_PER_S" --domains "$N"
CHURN_PID=$KG_LAST_PID

# --- every minute: RSS, fds, threads, CPU ---------------------------------------------
PROCS="agent:$AGENT_PID wall:$WALL_PID load:$LOAD_PID mosquitto:$KG_BROKER_PID libvirtd:$LV_PID"
HZ=$(getconf CLK_TCK)
alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
# sample MINUTE: one line per process, also appended to samples.tsv
: >"$KG_TMP/samples.tsv"
sample() {
    printf 'minute %d  (load average %s; churn %s changes so far)\n' "$1" \
        "$(cut -d' ' -f1-3 /proc/loadavg)" \
        "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ops"])' "$KG_TMP/churn.json" 2>/dev/null || echo 0)"
    for pp in $PROCS; do
        name=${pp%%:*} pid=${pp#*:}
        if ! alive "$pid"; then
            printf '  %-10s died\n' "$name"
            continue
        fi
        rss=$(kg_rss_kib "$pid")
        anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$pid/status")
        thr=$(awk '/^Threads/ { print $2 }' "/proc/$pid/status")
        fds=$(ls "/proc/$pid/fd" | wc -l)
        ticks=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
        prev=$(awk -v n="$name" '$2 == n { t = $6 } END { print t + 0 }' "$KG_TMP/samples.tsv")
        printf '%d\t%s\t%d\t%d\t%d\t%d\t%d\n' "$1" "$name" "$rss" "$fds" "$thr" "$ticks" "$anon" \
            >>"$KG_TMP/samples.tsv"
        awk -v n="$name" -v r="$rss" -v a="$anon" -v f="$fds" -v t="$thr" -v c="$ticks" -v p="$prev" -v hz="$HZ" \
            -v first="$([ "$1" -eq 0 ] && echo 1 || echo 0)" 'BEGIN {
            printf "  %-10s RSS %6.1f MiB (anon %6.1f)  fds %3d  threads %3d  CPU %6.1f s", n,
                r / 1024, a / 1024, f, t, c / hz
            if (!first) printf "  (%4.1f %% of a core this minute)", (c - p) / hz / 60 * 100
            printf "\n" }'
    done
}

send() { kg_pub "$CMD_T" "$1" -q 1 || kg_log "mosquitto_pub of a load command failed"; }
# load_tick MINUTE TICK: the load command for 5-second tick TICK (0-11) of a minute;
# every load ends before the minute's sample (the listener is idle then)
load_tick() {
    case $2 in
    1) send "{\"schema\":1,\"cmd\":\"start\",\"id\":\"cpu-$1\",\"kind\":\"cpu\",\"workers\":1,\"pct\":5,\"duration_s\":4}" ;;
    3) send "{\"schema\":1,\"cmd\":\"start\",\"id\":\"mem-$1\",\"kind\":\"mem\",\"mib\":16,\"duration_s\":4}" ;;
    5) send "{\"schema\":1,\"cmd\":\"scenario\",\"id\":\"scen-$1\",\"scenario\":\"soak\"}" ;;
    7) send "{\"schema\":1,\"cmd\":\"start\",\"id\":\"disk-$1\",\"kind\":\"disk\",\"mode\":\"write\",\"mb_per_s\":1,\"block_kib\":256,\"duration_s\":3}" ;;
    8) send "{\"schema\":1,\"cmd\":\"start\",\"id\":\"stop-$1\",\"kind\":\"cpu\",\"workers\":1,\"pct\":5,\"duration_s\":60}" ;;
    9) send '{"schema":1,"cmd":"stop"}' ;;
    10) send "{\"schema\":1,\"cmd\":\"start\",\"id\":\"over-$1\",\"kind\":\"mem\",\"mib\":4096,\"duration_s\":2}"
        send '{soak: not json'
        send '{"schema":1,"cmd":"status"}' ;;
    esac
}
LOADS_PER_MIN=5 REFUSED_PER_MIN=1

echo
T0=$(date +%s)
sample 0
minute=0
while [ "$minute" -lt "$MINUTES" ] && [ -z "$BROKEN" ]; do
    tick=0
    while [ $tick -lt 12 ]; do
        d=$(( T0 + minute * 60 + tick * 5 - $(date +%s) ))
        [ $d -gt 0 ] && sleep $d
        for pp in $PROCS churn:$CHURN_PID; do
            alive "${pp#*:}" || broken "${pp%%:*} (PID ${pp#*:}) died in minute $((minute + 1))"
        done
        [ -n "$BROKEN" ] && break
        load_tick $((minute + 1)) $tick
        tick=$((tick + 1))
    done
    [ -n "$BROKEN" ] && break
    d=$(( T0 + (minute + 1) * 60 - $(date +%s) ))
    [ $d -gt 0 ] && sleep $d
    minute=$((minute + 1))
    sample $minute
done
LAST=$minute

# --- growth ----------------------------------------------------------------------------
echo
echo "Growth from minute $SETTLE (end of warm-up) to minute $LAST:"
printf '  %-10s %22s %10s %9s %11s %10s %10s %6s\n' process "RSS MiB at 0/$SETTLE/$LAST" growth "per min" \
    "of it anon" "fds $SETTLE->$LAST" "thr $SETTLE->$LAST" "CPU %"
awk -F'\t' -v s="$SETTLE" -v e="$LAST" -v hz="$HZ" '
    $1 == 0 { rs[$2] = $3 }
    $1 == s { r0[$2] = $3; f0[$2] = $4; t0[$2] = $5; c0[$2] = $6; a0[$2] = $7 }
    $1 == e { r1[$2] = $3; f1[$2] = $4; t1[$2] = $5; c1[$2] = $6; a1[$2] = $7; order[++n] = $2 }
    END {
        if (e == s) exit
        for (i = 1; i <= n; i++) {
            p = order[i]
            if (!(p in r0)) continue
            printf "  %-10s %6.1f %6.1f %8.1f %+6.0f KiB %+5.0f KiB %+7.0f KiB %10s %10s %6.1f\n", p,
                rs[p] / 1024, r0[p] / 1024, r1[p] / 1024, r1[p] - r0[p], (r1[p] - r0[p]) / (e - s),
                a1[p] - a0[p],
                f0[p] "->" f1[p], t0[p] "->" t1[p], (c1[p] - c0[p]) / hz / ((e - s) * 60) * 100
        }
    }' "$KG_TMP/samples.tsv"
echo "  (anon: RssAnon, the growth of memory that is not file pages: libraries' code and data"
echo "  pages count in RSS when first touched; CPU %: of one core, averaged from minute"
echo "  $SETTLE to minute $LAST)"

# --- the end state against libvirt ---------------------------------------------------------
kg_stop "$CHURN_PID"
echo
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print("Churn: %d changes in %d virsh calls %s; virsh errors %d, libvirt differed from the asked %d times"
      % (d["ops"], d["calls"], json.dumps(d["counts"], sort_keys=True), d["virsh_errors"], d["drift"]))' \
    "$KG_TMP/churn.json" 2>/dev/null || echo "Churn: no figures (churn.json missing)"

# compare: the retained VM topics (names unescaped, and their state) against
# `virsh list --all`; the differences go to compare.txt
compare() {
    kg_sub_retained "$KG_PORT" "$P/vm/+" 3 -F '%t %p' >"$KG_TMP/retained.txt"
    virsh_ list --all >"$KG_TMP/virsh-list.txt" 2>>"$KG_TMP/virsh.log" || return 1
    python3 - "$KG_TMP/retained.txt" "$KG_TMP/virsh-list.txt" "$P/vm/" >"$KG_TMP/compare.txt" <<'EOP'
import json, sys
from urllib.parse import unquote_to_bytes
ret, lv = {}, {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    topic, _, payload = line.rstrip("\n").partition(" ")
    name = unquote_to_bytes(topic[len(sys.argv[3]):]).decode("utf-8", "replace")
    try:
        ret[name] = json.loads(payload).get("state", "?")
    except ValueError:
        ret[name] = "unparsable payload"
for line in open(sys.argv[2], encoding="utf-8"):
    line = line.strip()
    if not line:
        continue
    rest = line.split(None, 1)[1]
    if rest.endswith("shut off"):
        name, state = rest[: -len("shut off")].strip(), "shutoff"
    else:
        name, state = rest.rsplit(None, 1)
    lv[name.strip()] = state
only_r = sorted(set(ret) - set(lv))
only_l = sorted(set(lv) - set(ret))
states = sorted(n for n in set(ret) & set(lv) if ret[n] != lv[n])
by = {}
for s in lv.values():
    by[s] = by.get(s, 0) + 1
print("libvirt %d domains (%s), retained %d" % (len(lv), ", ".join(f"{v} {k}" for k, v in sorted(by.items())), len(ret)))
for what, names in (("retained, not in libvirt", only_r), ("in libvirt, not retained", only_l)):
    if names:
        print(f"  {what}: {len(names)}: {names[:10]}")
if states:
    print(f"  state differs: {len(states)}: " + ", ".join(f"{n!r} retained {ret[n]} libvirt {lv[n]}" for n in states[:10]))
sys.exit(1 if only_r or only_l or states else 0)
EOP
}
t0=$(date +%s)
if kg_wait_for 60 compare; then
    echo "Retained = libvirt within $(( $(date +%s) - t0 )) s after the churn stopped: $(head -n 1 "$KG_TMP/compare.txt")"
else
    compare
    broken "retained VM topics differ from libvirt 60 s after the churn stopped: $(cat "$KG_TMP/compare.txt")"
fi
lv_count=$(virsh_ list --all --name | grep -c .)

# the wall's model (SIGUSR1 prints its counters): as many VMs as libvirt, nothing
# malformed (every message came from kvmgrid's own programs)
wall_vms() { sed -n 's/^applied .* vms \([0-9]*\) hosts .*/\1/p' "$KG_TMP/wall.log" | tail -n 1; }
wall_has() { kill -USR1 "$WALL_PID"; sleep 0.5; [ "$(wall_vms)" = "$lv_count" ]; }
if kg_wait_for 20 wall_has; then
    counters=$(grep '^applied ' "$KG_TMP/wall.log" | tail -n 1)
    echo "Wall: $counters"
    case "$counters" in
    *" malformed 0 "*) ;;
    *) broken "the wall counted malformed messages: $counters" ;;
    esac
else
    broken "the wall holds $(wall_vms) VMs, libvirt $lv_count: $(grep '^applied ' "$KG_TMP/wall.log" | tail -n 1)"
fi

ids_seen() { grep "\"$1\":\"$2-" "$KG_TMP/loadstate.log" | grep -o "\"$1\":\"$2-[0-9]*\"" | sort -u | wc -l; }
echo "Load listener: $((LOADS_PER_MIN * LAST)) loads sent, $(( $(ids_seen id cpu) + $(ids_seen id mem) + \
$(ids_seen id scen) + $(ids_seen id disk) + $(ids_seen id stop) )) seen in its state; \
$((REFUSED_PER_MIN * LAST)) over its cap, $(ids_seen last_reject_id over) refused"

# warnings are figures, not failures: a busy host makes the agent retire a libvirt
# call that took longer than its interval, for instance
for name in agent wall load; do
    w=$(grep -c ' warn: ' "$KG_TMP/$name.log") e=$(grep -c ' error: ' "$KG_TMP/$name.log")
    echo "$name log: $w warnings, $e errors"
    grep -E ' (warn|error): ' "$KG_TMP/$name.log" |
        sed -E "s/^[^ ]* [^ ]* //; s/'[^']*'/'NAME'/g; s/[0-9]+(\.[0-9]+)?/N/g" |
        sort | uniq -c | sort -rn | head -n 5 | sed 's/^/    /'
done

# --- stop everything, by PID; exit statuses and sanitizer reports -----------------------
echo
for pp in load:$LOAD_PID wall:$WALL_PID agent:$AGENT_PID; do
    kg_stop "${pp#*:}"
    echo "${pp%%:*}: exit status $KG_EXIT_STATUS after SIGTERM"
    [ "$KG_EXIT_STATUS" -eq 0 ] || broken "${pp%%:*} exited with status $KG_EXIT_STATUS after SIGTERM"
done
for pid in $STATESUB_PID $EVENTS_PID $LV_PID $KG_BROKER_PID; do kg_stop "$pid"; done
found=0
for name in agent wall load; do
    log="$KG_TMP/$name.log"
    if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer' "$log"; then
        found=1
        broken "sanitizer report in $name's log"
        echo "---- $name: sanitizer report"
        grep -n -E -A 40 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" | head -n 120
    fi
done
[ -n "$SANITIZE" ] && [ $found -eq 0 ] && echo "Sanitizers ($SANITIZE, LeakSanitizer at exit): no report from agent, wall or load"

if [ -n "${SOAK_KEEP:-}" ]; then
    mkdir -p "$SOAK_KEEP" && cp -r "$KG_TMP"/*.log "$KG_TMP"/*.txt "$KG_TMP"/*.tsv "$KG_TMP"/*.json "$SOAK_KEEP"/ 2>/dev/null
    echo "Logs and figures copied to $SOAK_KEEP"
fi
if [ -n "$BROKEN" ]; then
    echo "Broken run:$BROKEN"
    exit 1
fi
echo "Soak complete: nothing died, no sanitizer report, retained state = libvirt"

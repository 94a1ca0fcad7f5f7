#!/bin/sh
# SPDX-License-Identifier: MIT
# --trace-tile VM against a real mosquitto, headless: a running wall prints
# "trace-tile VM colour RRGGBB real_ms N" each time the VM's tile is presented in
# another colour (next to its centre, in the default all-metrics view the CPU
# quadrant: viridis for the value, the shut-off mark), and
# only then — not for frames that leave it alone, not for other tiles, not for the
# same colour again; "none" once the VM is removed; the first tile in screen order
# when two hosts have a VM of that name; N is the realtime clock between the publish
# and the line's arrival. A VM that is not on the wall gives one "none" line and a
# normal run; the raw name is traced, not its escaped topic form; a missing or too
# long name is a usage error (exit 2).
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

. "$KG_SOURCE_DIR/tests/integration/viewer/headless.sh"

kg_broker_start
vm() { # HOST VM CPU STATE: a retained VM payload
    "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PORT" -r -t "kvmgrid/$1/vm/$2" \
        -m "$("$GRIDPUB" --print-vm "$1" "$2" "$3" "$4")" || kg_die "publish $1/$2"
}
gone() { kg_pub "kvmgrid/$1/vm/$2" "" -r || kg_die "remove $1/$2"; }
# hosts that tell a 1 h interval: nothing turns stale (checkerboard) during the test
for h in hv1 hv2; do
    kg_pub "kvmgrid/$h/status" online -r
    kg_pub "kvmgrid/$h/metrics" "$("$GRIDPUB" --print-host "$h" 3600)" -r
done
vm hv1 a 0 running
vm hv1 b 50 running

kg_spawn wall "$WALL" --broker "$KG_BROKER_URI" --size 800x600 --interval 1h --trace-tile a
WALL_PID=$KG_LAST_PID LOG=$KG_TMP/wall.log
# its SIGUSR1 handler is installed before it connects
kg_wait_for 20 grep -q "connected to the broker" "$LOG" || kg_die "wall did not connect"

# drawn N: the wall has applied at least N messages and presented all of them
# (SIGUSR1: an "applied N ..." line, then "view ... pending 0|1 ...")
drawn() {
    n=$(grep -c '^view ' "$LOG")
    kill -USR1 "$WALL_PID" || return 1
    kg_wait_for 10 sh -c "[ \$(grep -c '^view ' '$LOG') -gt $n ]" || return 1
    applied=$(grep '^applied ' "$LOG" | tail -n 1 | cut -d' ' -f2)
    [ "${applied:-0}" -ge "$1" ] && grep '^view ' "$LOG" | tail -n 1 | grep -q ' pending 0 '
}
APPLIED=6 # 2 x (status, metrics) + 2 VMs
sync() { # WHAT: waits until every message published so far has been drawn
    kg_wait_for 30 drawn "$APPLIED" || kg_die "$1: the wall never drew $APPLIED messages"
}
traces() { grep '^trace-tile ' "$LOG"; }
ntraces() { traces | wc -l | tr -d ' '; }
last() { traces | tail -n 1 | sed 's/ real_ms [0-9]*$//'; }
now_ms() { date +%s%3N; }
# change WHAT EXPECTED PUBLISH...: runs PUBLISH, waits for the trace line EXPECTED
# (without its real_ms) and checks its clock lies between the publish and now
change() {
    _what=$1 _want=$2; shift 2
    _n=$(ntraces) _t0=$(now_ms)
    "$@"
    APPLIED=$((APPLIED + 1))
    if kg_wait_for 20 sh -c "[ \$(grep -c '^trace-tile ' '$LOG') -gt $_n ]"; then
        sync "$_what"
        _t1=$(now_ms)
        kg_assert_eq "$_what: one new trace line" $((_n + 1)) "$(ntraces)"
        kg_assert_eq "$_what: traced" "$_want" "$(last)"
        _ms=$(traces | tail -n 1 | sed -n 's/.* real_ms \([0-9]*\)$/\1/p')
        if [ -n "$_ms" ] && [ "$_ms" -ge "$_t0" ] && [ "$_ms" -le "$_t1" ]; then
            kg_pass "$_what: real_ms $_ms within the publish ($_t0) .. seen ($_t1)"
        else
            kg_fail "$_what: real_ms [$_ms] not within $_t0 .. $_t1"
        fi
    else
        kg_fail "$_what: no trace line for [$_want]; last: [$(last)]"
    fi
}
# quiet WHAT PUBLISH...: runs PUBLISH; once it is drawn, no trace line came of it
quiet() {
    _what=$1; shift
    _n=$(ntraces) _f0=$(grep '^view ' "$LOG" | tail -n 1 | sed -n 's/.* frames \([0-9]*\) .*/\1/p')
    "$@"
    APPLIED=$((APPLIED + 1))
    sync "$_what"
    _f1=$(grep '^view ' "$LOG" | tail -n 1 | sed -n 's/.* frames \([0-9]*\) .*/\1/p')
    [ "${_f1:-0}" -gt "${_f0:-0}" ] || kg_fail "$_what: no frame presented since ($_f0 -> $_f1)"
    kg_assert_eq "$_what: no trace line (frames $_f0 -> $_f1)" "$_n" "$(ntraces)"
}

sync "retained state"
# Before a's tile exists the wall may have presented frames without it ("none"); then
# exactly one line for viridis 0 %, however many frames followed.
first=$(traces | sed 's/ real_ms [0-9]*$//' | tr '\n' '|')
case "$first" in
"trace-tile a colour 440154|" | "trace-tile a none|trace-tile a colour 440154|")
    kg_pass "first colour: viridis 0 %, one line ($first)" ;;
*) kg_fail "first colour: expected [none|]colour 440154 once, got [$first]" ;;
esac
traces | grep -qv '^trace-tile a \(none\|colour [0-9A-F]\{6\}\) real_ms [0-9]\{13\}$' &&
    kg_fail "malformed trace lines: $(traces)" || kg_pass "trace lines well-formed"
frames=$(grep '^view ' "$LOG" | tail -n 1 | sed -n 's/.* frames \([0-9]*\) .*/\1/p')
[ "${frames:-0}" -ge 2 ] && kg_pass "several frames presented ($frames)" || kg_fail "frames: [$frames]"

change "a to 100 %" "trace-tile a colour FDE725" vm hv1 a 100 running
quiet "another VM changes colour" vm hv1 b 100 running
quiet "a again at 100 % (same colour)" vm hv1 a 100 running
quiet "a paused (bars beside the centre)" vm hv1 a 100 paused
change "a shut off (the hollow square's centre)" "trace-tile a colour 101014" vm hv1 a 0 shutoff
change "a to 50 %" "trace-tile a colour 21918C" vm hv1 a 50 running
change "a removed" "trace-tile a none" gone hv1 a
change "a back" "trace-tile a colour 440154" vm hv1 a 0 running
# Two VMs named a: the first in screen order (hosts by name: hv1 before hv2) is traced.
quiet "a on a second host" vm hv2 a 100 running
quiet "the second host's a changes" vm hv2 a 50 running
change "the first a removed: the second one is traced" "trace-tile a colour 21918C" gone hv1 a
change "the second a removed too" "trace-tile a none" gone hv2 a
quiet "a removal of nothing" gone hv1 a

kill -0 "$WALL_PID" 2>/dev/null && kg_pass "wall still running" || kg_fail "wall died"
kg_stop "$WALL_PID" TERM
kg_assert_eq "wall exit status on SIGTERM" 0 "$KG_EXIT_STATUS"
grep -q "ERROR\|runtime error" "$LOG" && kg_fail "errors in the wall's log" || kg_pass "no errors logged"

# One-shot walls: stdout alone holds the trace lines.
"$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PORT" -r -t 'kvmgrid/hv1/vm/x%2Fy%20z' \
    -m "$("$GRIDPUB" --print-vm hv1 'x/y z' 100 running)" || kg_die "publish x/y z"
shot() { # NAME TRACE [ARGS...]: a headless screenshot run tracing TRACE; status in $?
    _n=$1 _t=$2; shift 2
    "$WALL" --broker "$KG_BROKER_URI" --size 800x600 --interval 1h --screenshot "$KG_TMP/$_n.png" \
        --trace-tile "$_t" "$@" >"$KG_TMP/$_n.out" 2>"$KG_TMP/$_n.log"
}
shot raw 'x/y z'
kg_assert_eq "raw name: exit status" 0 $?
kg_assert_eq "raw name 'x/y z' traced" "trace-tile x/y z colour FDE725" \
    "$(grep -v ' none ' "$KG_TMP/raw.out" | sed 's/ real_ms [0-9]*$//')"
shot escaped 'x%2Fy%20z'
kg_assert_eq "escaped topic form: exit status" 0 $?
kg_assert_eq "escaped topic form is not a VM name: none" "trace-tile x%2Fy%20z none" \
    "$(sed 's/ real_ms [0-9]*$//' "$KG_TMP/escaped.out")"
shot missing no-such-vm
kg_assert_eq "VM not on the wall: exit status 0" 0 $?
kg_assert_eq "VM not on the wall: one none line, nothing else on stdout" "trace-tile no-such-vm none" \
    "$(sed 's/ real_ms [0-9]*$//' "$KG_TMP/missing.out")"
[ -s "$KG_TMP/missing.png" ] && kg_pass "... and the screenshot was taken" || kg_fail "no screenshot"
shot empty ''
kg_assert_eq "empty name (no tracing): exit status" 0 $?
kg_assert_eq "empty name: no trace lines" "" "$(cat "$KG_TMP/empty.out")"
printf 'trace_tile = x/y z\n' >"$KG_TMP/trace.conf"
"$WALL" --config "$KG_TMP/trace.conf" --broker "$KG_BROKER_URI" --size 800x600 --interval 1h \
    --screenshot "$KG_TMP/conf.png" >"$KG_TMP/conf.out" 2>"$KG_TMP/conf.log"
kg_assert_eq "trace_tile in a config file: exit status" 0 $?
kg_assert_contains "... traces" "$(cat "$KG_TMP/conf.out")" "trace-tile x/y z colour FDE725 real_ms "

"$WALL" --broker "$KG_BROKER_URI" --trace-tile >"$KG_TMP/noarg.out" 2>&1
kg_assert_eq "--trace-tile without a name: exit 2" 2 $?
kg_assert_contains "... says so" "$(cat "$KG_TMP/noarg.out")" "--trace-tile needs a value"
long=$(printf '%0300d' 0)
shot long "$long"
kg_assert_eq "a name over the name limit: exit 2" 2 $?
kg_assert_contains "... says so" "$(cat "$KG_TMP/long.log")" "--trace-tile: value for 'trace_tile' is too long"
[ -e "$KG_TMP/long.png" ] && kg_fail "... yet it ran" || kg_pass "... and did not run"

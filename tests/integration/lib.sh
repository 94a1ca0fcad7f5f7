# SPDX-License-Identifier: MIT
# Shared helpers for kvmgrid's shell integration tests. Source it:  . "$KG_SOURCE_DIR/tests/integration/lib.sh"
#
# Every test gets a private temp dir ($KG_TMP) and its own mosquitto on a free
# loopback port; every process started through kg_spawn is recorded and killed by
# PID on exit, whatever way the test ends. No fixed ports, no fixed sleeps: waits
# poll with a deadline.
#
# One convention for every helper library (this file, agent/agent_lib.sh,
# broker-config/broker-lib.sh, viewer/xwall.sh, tests/e2e/lib-e2e.sh,
# tests/fresh/fresh_lib.sh, bench/agent/collectd_conf.sh): each function a
# library shares is named kg_* (a library for one area may narrow it:
# kg_prod_*, kg_wall_*, kg_e2e_*, kg_fresh_*), so that a function without the
# prefix in a test script is that script's own. Libraries and test scripts are
# POSIX sh (dash on Debian), run as `sh SCRIPT` by kg_add_shell_test.
set -u

: "${KG_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${KG_BUILD_DIR:=$KG_SOURCE_DIR/build}"
: "${MOSQUITTO:=$(command -v mosquitto || echo /usr/sbin/mosquitto)}"
: "${MOSQUITTO_PUB:=mosquitto_pub}"
: "${MOSQUITTO_SUB:=mosquitto_sub}"

KG_TEST_NAME=$(basename "$0" .sh)
KG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kg-$KG_TEST_NAME.XXXXXX")
KG_PIDS=""
KG_FAILS=0

kg_log() { printf '[%s] %s\n' "$KG_TEST_NAME" "$*" >&2; }

# Every command here and in kg_stop must succeed on a process that has already
# ended: tests that run under set -e (tests/fresh) record PIDs of finished steps,
# and a failing kill or wait would end the trap early with status 1.
kg_cleanup() {
    rc=$?
    for pid in $KG_PIDS; do kill "$pid" 2>/dev/null || true; done
    for pid in $KG_PIDS; do
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ $rc -ne 0 ] || [ "$KG_FAILS" -ne 0 ]; then
        kg_log "FAILED; logs kept in $KG_TMP"
        for f in "$KG_TMP"/*.log; do
            [ -f "$f" ] || continue
            echo "---- $f (last 40 lines)" >&2; tail -n 40 "$f" >&2
        done
    else
        rm -rf "$KG_TMP"
    fi
    [ "$KG_FAILS" -ne 0 ] && exit 1
    exit $rc
}
trap kg_cleanup EXIT
trap 'exit 130' INT TERM

kg_fail() { kg_log "FAIL: $*"; KG_FAILS=$((KG_FAILS + 1)); }
kg_die() { kg_log "FATAL: $*"; KG_FAILS=$((KG_FAILS + 1)); exit 1; }
kg_pass() { kg_log "ok: $*"; }

# kg_assert_eq WHAT EXPECTED ACTUAL
kg_assert_eq() {
    if [ "$2" = "$3" ]; then kg_pass "$1"; else kg_fail "$1: expected [$2], got [$3]"; fi
}
# kg_assert_contains WHAT HAYSTACK NEEDLE
kg_assert_contains() {
    case "$2" in *"$3"*) kg_pass "$1" ;; *) kg_fail "$1: [$3] not in [$2]" ;; esac
}
# kg_assert_not_contains WHAT HAYSTACK NEEDLE
kg_assert_not_contains() {
    case "$2" in *"$3"*) kg_fail "$1: [$3] unexpectedly in [$2]" ;; *) kg_pass "$1" ;; esac
}
# kg_assert_ge WHAT VALUE MIN: passes when VALUE >= MIN (numbers, not only integers).
kg_assert_ge() {
    if awk -v v="$2" -v m="$3" 'BEGIN { exit !(v != "" && v + 0 >= m + 0) }'; then kg_pass "$1 ($2 >= $3)"
    else kg_fail "$1: $2 < $3"; fi
}
# kg_assert_le WHAT VALUE MAX
kg_assert_le() {
    if awk -v v="$2" -v m="$3" 'BEGIN { exit !(v != "" && v + 0 <= m + 0) }'; then kg_pass "$1 ($2 <= $3)"
    else kg_fail "$1: $2 > $3"; fi
}

# kg_spawn LOGNAME CMD ARGS... : runs in background, records the PID in KG_LAST_PID.
kg_spawn() {
    _log="$KG_TMP/$1.log"; shift
    "$@" >>"$_log" 2>&1 &
    KG_LAST_PID=$!
    KG_PIDS="$KG_PIDS $KG_LAST_PID"
}

# kg_stop PID [SIGNAL]: signals and waits up to 5 s, then SIGKILL. Sets KG_EXIT_STATUS.
kg_stop() {
    kill "-${2:-TERM}" "$1" 2>/dev/null || true
    i=0
    while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$1" 2>/dev/null || true
    KG_EXIT_STATUS=0
    wait "$1" 2>/dev/null || KG_EXIT_STATUS=$?
}

# A `sh -c TEXT` in the background (a doc's block run as printed) is the parent
# of what TEXT runs: dash does not exec even a single command there, and a
# signal to the shell leaves its children running (a mosquitto_sub would
# reconnect for ever). kg_adopt_children PID: records PID's children now, for
# kg_cleanup to stop by PID at exit; kg_stop_tree PID: kg_stop on each child,
# then on PID.
kg_adopt_children() { KG_PIDS="$KG_PIDS $(ps -o pid= --ppid "$1" | xargs)"; }
kg_stop_tree() {
    for _c in $(ps -o pid= --ppid "$1"); do kg_stop "$_c"; done
    kg_stop "$1"
}

# kg_wait_for SECONDS CMD ARGS...: polls CMD every 0.1 s until it succeeds. 0 or 1.
# Not re-entrant: CMD must not call kg_wait_for itself (sh has one _deadline).
kg_wait_for() {
    _deadline=$(( $(date +%s) + $1 )); shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$_deadline" ] && return 1
        sleep 0.1
    done
    return 0
}

# kg_rss_kib PID: the process's resident set (VmRSS) in KiB; 0 once it is gone.
kg_rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# kg_free_port: prints a TCP port free on 127.0.0.1 right now.
kg_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

kg_port_open() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.5).close()' "$1"; }

# kg_mosquitto_start LOGNAME CONF PORT...: a mosquitto on CONF (kg_spawn LOGNAME;
# KG_LAST_PID is its PID); waits up to 10 s for each PORT to accept connections on
# 127.0.0.1. Returns 1 when one does not.
kg_mosquitto_start() {
    _name=$1; _conf=$2; shift 2
    kg_spawn "$_name" "$MOSQUITTO" -c "$_conf"
    for _port in "$@"; do
        kg_wait_for 10 kg_port_open "$_port" || return 1
    done
    return 0
}

# kg_broker_start [EXTRA_CONF_FILE]: a private mosquitto on a free loopback port with
# broker-config/dev.conf, plus EXTRA_CONF_FILE's lines. Sets KG_PORT, KG_BROKER_PID,
# KG_BROKER_URI, KG_BROKER_CONF. Call again after kg_broker_stop to restart on the same port.
kg_broker_start() {
    if [ -z "${KG_PORT:-}" ]; then KG_PORT=$(kg_free_port); fi
    KG_BROKER_CONF="$KG_TMP/mosquitto.conf"
    {
        echo "listener $KG_PORT 127.0.0.1"
        if [ -f "$KG_SOURCE_DIR/broker-config/dev.conf" ]; then
            grep -v '^[[:space:]]*listener' "$KG_SOURCE_DIR/broker-config/dev.conf"
        else
            echo "allow_anonymous true"; echo "persistence false"
        fi
        if [ $# -gt 0 ]; then cat "$1"; fi
    } > "$KG_BROKER_CONF"
    KG_BROKER_URI="tcp://127.0.0.1:$KG_PORT"
    _st=0
    kg_mosquitto_start mosquitto "$KG_BROKER_CONF" "$KG_PORT" || _st=1
    KG_BROKER_PID=$KG_LAST_PID
    [ $_st -eq 0 ] || kg_die "mosquitto did not accept connections on 127.0.0.1:$KG_PORT"
}

kg_broker_stop() { kg_stop "$KG_BROKER_PID" "${1:-TERM}"; }

# Retained messages on the private broker ($KG_PORT). mosquitto_sub ends SECONDS
# (default 2) after it connected, or at the first message for kg_retained_payload;
# the broker sends every retained message at once on subscribing. All succeed
# whatever was found.
#
# kg_sub_retained PORT FILTER SECONDS [ARGS...]: mosquitto_sub --retained-only on
# FILTER at 127.0.0.1:PORT, with ARGS (-v, -F, -u, -P ...); the one reader below
# and for another broker (broker-lib.sh's kg_prod_retained).
kg_sub_retained() {
    _kg_sr_port=$1; _kg_sr_filter=$2; _kg_sr_secs=$3; shift 3
    "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$_kg_sr_port" -t "$_kg_sr_filter" --retained-only \
        -W "$_kg_sr_secs" "$@" 2>/dev/null
    return 0
}
# kg_retained FILTER [SECONDS]: "topic payload" for every retained message under
# FILTER, one per line, sorted.
kg_retained() { kg_sub_retained "$KG_PORT" "$1" "${2:-2}" -v | sort; }
# kg_retained_topics FILTER [SECONDS]: the topics under FILTER with a retained message, sorted.
kg_retained_topics() { kg_sub_retained "$KG_PORT" "$1" "${2:-2}" -F '%t' | sort; }
# kg_retained_payload TOPIC [SECONDS]: the retained payload of one topic ("" when none).
kg_retained_payload() { kg_sub_retained "$KG_PORT" "$1" "${2:-2}" -C 1; }
# kg_has_retained TOPIC [SECONDS] / kg_no_retained TOPIC [SECONDS]: a retained,
# non-empty message is / is not on TOPIC.
kg_has_retained() { [ -n "$(kg_retained_payload "$1" "${2:-2}")" ]; }
kg_no_retained() { [ -z "$(kg_retained_payload "$1" "${2:-2}")" ]; }

# kg_json_get JSON EXPR: prints Python's EXPR on d, the parsed JSON (booleans print
# as True/False). Fails when JSON does not parse or EXPR raises.
kg_json_get() {
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# kg_doc_block FILE NAME: the text of the ```sh block after the line
# "<!-- recipe: NAME -->" in the markdown FILE (docs whose blocks tests run as
# printed: docs/RECIPES.md, docs/integrations/node-red.md); empty when none.
kg_doc_block() {
    awk -v want="<!-- recipe: $2 -->" '
        $0 == want { found = 1; next }
        found == 1 && /^```sh$/ { found = 2; next }
        found == 2 && /^```$/ { exit }
        found == 2 { print }' "$1"
}

# kg_pub TOPIC PAYLOAD [mosquitto_pub args...]
kg_pub() {
    _t=$1; _p=$2; shift 2
    "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PORT" -t "$_t" -m "$_p" "$@"
}

# kg_bin NAME: path of a built program (fails the test when it is missing).
kg_bin() {
    for d in "$KG_BUILD_DIR/$1" "$KG_BUILD_DIR"/*/"$1"; do
        if [ -x "$d" ]; then echo "$d"; return 0; fi
    done
    kg_die "program $1 not built under $KG_BUILD_DIR"
}

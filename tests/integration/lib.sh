# SPDX-License-Identifier: MIT
# Shared helpers for kvmgrid's shell integration tests. Source it:  . "$KG_SOURCE_DIR/tests/integration/lib.sh"
#
# Every test gets a private temp dir ($KG_TMP) and its own mosquitto on a free
# loopback port; every process started through kg_spawn is recorded and killed by
# PID on exit, whatever way the test ends. No fixed ports, no fixed sleeps: waits
# poll with a deadline.
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
    kg_spawn mosquitto "$MOSQUITTO" -c "$KG_BROKER_CONF"
    KG_BROKER_PID=$KG_LAST_PID
    KG_BROKER_URI="tcp://127.0.0.1:$KG_PORT"
    if ! kg_wait_for 10 kg_port_open "$KG_PORT"; then
        kg_die "mosquitto did not accept connections on 127.0.0.1:$KG_PORT"
    fi
}

kg_broker_stop() { kg_stop "$KG_BROKER_PID" "${1:-TERM}"; }

# kg_retained FILTER [SECONDS]: prints "topic payload" for every retained message
# under FILTER, one per line, sorted. Reads until no message arrives for a moment.
kg_retained() {
    "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t "$1" -v --retained-only -W "${2:-2}" 2>/dev/null | sort
    return 0
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

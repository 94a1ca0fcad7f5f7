#!/bin/sh
# SPDX-License-Identifier: MIT
# Bad input gets a clear error and never a crash or a hang: invalid topic names
# and filters are refused by the session before the broker could drop the
# connection (and the connection survives); bad URIs and options are refused at
# creation with a message naming the problem.
. "${KG_SOURCE_DIR:=$(cd "$(dirname "$0")/../../.." && pwd)}/tests/integration/lib.sh" || exit 1
TOOL=$(kg_bin kg-mqtt-tool)
kg_broker_start

"$TOOL" badtopics "$KG_BROKER_URI" kgtest/bad >"$KG_TMP/bad.log" 2>&1
kg_assert_eq "badtopics exits 0" 0 $?
log=$(cat "$KG_TMP/bad.log")
for name in plus hash plus-in-level empty invalid-utf8 truncated-utf8 overlong surrogate control \
            c1-control too-long; do
    kg_assert_contains "refused: $name" "$log" "event refused $name"
done
kg_assert_not_contains "nothing invalid accepted" "$log" "ACCEPTED"
kg_assert_contains "connection survived" "$log" "event survived"
kg_assert_eq "valid publish after the refusals arrived" "kgtest/bad/after alive" \
    "$(kg_retained 'kgtest/bad/#')"
kg_assert_not_contains "broker never saw a malformed packet" "$(cat "$KG_TMP/mosquitto.log")" \
    "protocol error"

# Invalid topics given on the command line: refused, exit 2, clear message.
"$TOOL" pub "$KG_BROKER_URI" 'kgtest/+/x' v >"$KG_TMP/cli1.log" 2>&1
kg_assert_eq "pub to a wildcard topic exits 2" 2 $?
kg_assert_contains "message names the topic" "$(cat "$KG_TMP/cli1.log")" 'invalid topic name "kgtest/+/x"'
"$TOOL" pub "$KG_BROKER_URI" "$(printf 'kgtest/\377')" v >"$KG_TMP/cli2.log" 2>&1
kg_assert_eq "pub to an invalid UTF-8 topic exits 2" 2 $?
"$TOOL" sub "$KG_BROKER_URI" 'kgtest/a#' --count 1 --timeout 1 >"$KG_TMP/cli3.log" 2>&1
kg_assert_eq "sub to a malformed filter exits 2" 2 $?
kg_assert_contains "filter error is clear" "$(cat "$KG_TMP/cli3.log")" 'invalid filter "kgtest/a#"'

# Bad URIs: refused at once with a message saying what is wrong.
check_uri() { # URI EXPECTED-WORDS
    out=$("$TOOL" pub "$1" kgtest/x v 2>&1); rc=$?
    kg_assert_eq "URI [$1] refused with exit 2" 2 "$rc"
    kg_assert_contains "URI [$1] message" "$out" "$2"
}
check_uri "" "no broker URI given"
check_uri "http://127.0.0.1:1883" "must start with tcp:// or ssl://"
check_uri "127.0.0.1:1883" "must start with tcp:// or ssl://"
check_uri "tcp://" "has no host"
check_uri "tcp://:1883" "has no host"
check_uri "tcp://127.0.0.1:" "empty port"
check_uri "tcp://127.0.0.1:0" "port must be a number 1-65535"
check_uri "tcp://127.0.0.1:65536" "port must be a number 1-65535"
check_uri "tcp://127.0.0.1:abc" "port must be a number 1-65535"
check_uri "tcp://127.0.0.1:1883/path" "port must be a number"
check_uri "tcp://host name:1883" "invalid character in host"
check_uri "tcp://[::1" "malformed [IPv6] host"

# Bad options.
opt_case() { # WHAT EXPECTED ARGS...
    what=$1; want=$2; shift 2
    out=$("$TOOL" pub "$@" kgtest/x v 2>&1); rc=$?
    kg_assert_eq "$what refused with exit 2" 2 "$rc"
    kg_assert_contains "$what message" "$out" "$want"
}
opt_case "CA file on tcp://" "need an ssl:// URI" "$KG_BROKER_URI" --ca /etc/hostname
opt_case "missing CA file" "No such file" ssl://127.0.0.1:8883 --ca "$KG_TMP/nope.pem"
opt_case "key without cert" "needs a certificate" ssl://127.0.0.1:8883 --key /etc/hostname
opt_case "QoS 2" "QoS 2 not supported" "$KG_BROKER_URI" --qos 2
opt_case "wildcard will topic" "will topic" "$KG_BROKER_URI" --will 'a/#' x
opt_case "password without user" "needs a user name" "$KG_BROKER_URI" --pass secret
opt_case "keepalive out of range" "keepalive" "$KG_BROKER_URI" --keepalive 70000

# A valid URI without a broker: no hang, exit 1 after the delivery timeout.
out=$("$TOOL" pub tcp://127.0.0.1:1 kgtest/x v --timeout 1 2>&1); rc=$?
kg_assert_eq "unreachable broker: exit 1" 1 "$rc"
kg_assert_contains "unreachable broker: reason logged" "$out" "cannot connect to tcp://127.0.0.1:1"

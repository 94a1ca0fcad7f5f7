#!/bin/sh
# SPDX-License-Identifier: MIT
# ssl:// is wired through: with a CA made here by openssl, the session verifies a
# mosquitto TLS listener (chain and host name) and publishes over it; a broker
# certificate from another CA is refused with the TLS reason logged; TLS options
# on a tcp:// URI are refused. (Production TLS configs are tested with the broker
# configs, not here.)
. "${KG_SOURCE_DIR:=$(cd "$(dirname "$0")/../../.." && pwd)}/tests/integration/lib.sh" || exit 1
TOOL=$(kg_bin kg-mqtt-tool)
command -v openssl >/dev/null || kg_die "openssl not installed"
D=$KG_TMP/pki
mkdir -p "$D"
mkca() { # NAME
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kvmgrid test CA $1" \
        -keyout "$D/$1.key" -out "$D/$1.pem" >/dev/null 2>&1 || kg_die "openssl CA $1"
}
mkca ca
mkca other
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$D/server.key" \
    -out "$D/server.csr" >/dev/null 2>&1 || kg_die "openssl server key"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$D/ext.cnf"
openssl x509 -req -in "$D/server.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial \
    -days 2 -extfile "$D/ext.cnf" -out "$D/server.pem" >/dev/null 2>&1 || kg_die "openssl sign"
# A second server certificate from the right CA, but for another name.
openssl req -newkey rsa:2048 -nodes -subj "/CN=wrong.example" -keyout "$D/wrong.key" \
    -out "$D/wrong.csr" >/dev/null 2>&1 || kg_die "openssl wrong-name key"
printf 'subjectAltName=DNS:wrong.example\n' >"$D/wrong.cnf"
openssl x509 -req -in "$D/wrong.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" -CAcreateserial \
    -days 2 -extfile "$D/wrong.cnf" -out "$D/wrong.pem" >/dev/null 2>&1 || kg_die "openssl sign 2"
chmod 0644 "$D"/*.pem "$D"/*.key
chmod 0755 "$D" "$KG_TMP"   # mosquitto may read its key after dropping to its own user

TLS_PORT=$(kg_free_port)
WRONG_PORT=$(kg_free_port)
cat >"$KG_TMP/tls.conf" <<CONF
listener $TLS_PORT 127.0.0.1
cafile $D/ca.pem
certfile $D/server.pem
keyfile $D/server.key
listener $WRONG_PORT 127.0.0.1
cafile $D/ca.pem
certfile $D/wrong.pem
keyfile $D/wrong.key
CONF
kg_broker_start "$KG_TMP/tls.conf"
kg_wait_for 10 kg_port_open "$TLS_PORT" || kg_die "TLS listener not up"
kg_wait_for 10 kg_port_open "$WRONG_PORT" || kg_die "second TLS listener not up"
URI="ssl://127.0.0.1:$TLS_PORT"

"$TOOL" pub "$URI" kgtest/tls/status secure --retain --ca "$D/ca.pem" >"$KG_TMP/ok.log" 2>&1
kg_assert_eq "publish over TLS with the right CA" 0 $?
kg_assert_eq "message arrived through the TLS listener" "kgtest/tls/status secure" \
    "$(kg_retained 'kgtest/tls/#')"

kg_spawn tlssub "$TOOL" sub "$URI" kgtest/tls/cmd --count 1 --timeout 20 --ca "$D/ca.pem"
SUB=$KG_LAST_PID
kg_wait_for 10 grep -q "event connected" "$KG_TMP/tlssub.log" || kg_fail "TLS subscriber did not connect"
kg_pub kgtest/tls/cmd over-tls
kg_wait_for 10 sh -c "! kill -0 $SUB 2>/dev/null"
kg_stop "$SUB"
kg_assert_eq "TLS subscriber got its message" 0 "$KG_EXIT_STATUS"
kg_assert_contains "TLS subscriber output" "$(cat "$KG_TMP/tlssub.log")" "kgtest/tls/cmd over-tls"

"$TOOL" pub "$URI" kgtest/tls/wrong x --ca "$D/other.pem" --timeout 2 >"$KG_TMP/wrong.log" 2>&1
kg_assert_eq "a broker certificate from another CA is refused" 1 $?
kg_assert_contains "TLS failure logged" "$(cat "$KG_TMP/wrong.log")" "cannot connect to $URI"
kg_assert_contains "OpenSSL's reason logged" "$(cat "$KG_TMP/wrong.log")" "certificate verify failed"
kg_assert_eq "nothing published through the refused connection" "" "$(kg_retained 'kgtest/tls/wrong')"

# Host name verification is on: a certificate for another name is refused,
# unless the test-only --insecure (tls_insecure) skips that one check.
WURI="ssl://127.0.0.1:$WRONG_PORT"
"$TOOL" pub "$WURI" kgtest/tls/name x --ca "$D/ca.pem" --timeout 2 >"$KG_TMP/name.log" 2>&1
kg_assert_eq "certificate for another host name refused" 1 $?
kg_assert_contains "name mismatch logged" "$(cat "$KG_TMP/name.log")" "cannot connect to $WURI"
"$TOOL" pub "$WURI" kgtest/tls/name insecure --retain --ca "$D/ca.pem" --insecure >"$KG_TMP/insecure.log" 2>&1
kg_assert_eq "--insecure skips the host name check only" 0 $?
kg_assert_eq "message through the insecure connection" "kgtest/tls/name insecure" \
    "$(kg_retained kgtest/tls/name)"
"$TOOL" pub "$WURI" kgtest/tls/name2 x --ca "$D/other.pem" --insecure --timeout 2 >/dev/null 2>&1
kg_assert_eq "--insecure still verifies the chain" 1 $?

"$TOOL" pub "$KG_BROKER_URI" kgtest/tls/plain x --ca "$D/ca.pem" >"$KG_TMP/plain.log" 2>&1
kg_assert_eq "TLS options with tcp:// refused" 2 $?

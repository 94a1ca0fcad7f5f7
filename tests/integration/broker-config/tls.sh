#!/bin/sh
# SPDX-License-Identifier: MIT
# production.conf's TLS listener with mkcerts.sh's test certificates: a client
# that verifies the broker against the test CA connects (by name and by IP,
# both in the certificate's SAN) and its messages flow; a client without that
# CA (system CAs only), a plain-MQTT client on the TLS port, and a client that
# trusts another CA are refused. TLS does not bypass passwords.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/broker-config/broker-lib.sh"

kg_prod_setup prod agent:web-01 wall:lobby
kg_prod_start
CA="$KG_PROD_DIR/etc/tls/ca.crt"
PW=$(kg_prod_password web-01)

tls_pub() { # HOST ARGS... : publish as web-01 over TLS
    _h=$1; shift
    "$MOSQUITTO_PUB" -h "$_h" -p "$KG_PROD_TLS_PORT" -u web-01 -P "$PW" -q 1 \
        -t kvmgrid/web-01/status "$@" 2>&1
}

# A wall listening over TLS too.
"$MOSQUITTO_SUB" -h localhost -p "$KG_PROD_TLS_PORT" --cafile "$CA" -u wall@lobby \
    -P "$(kg_prod_password wall@lobby)" -q 1 -t 'kvmgrid/#' -v > "$KG_TMP/wall.out" 2>"$KG_TMP/wall.log" &
KG_PIDS="$KG_PIDS $!"
has() { grep -qxF -- "$1" "$KG_TMP/wall.out"; }
if kg_wait_for 15 sh -c "'$MOSQUITTO_PUB' -h localhost -p $KG_PROD_TLS_PORT --cafile '$CA' -u web-01 -P '$PW' -q 1 -t kvmgrid/web-01/status -m tls-localhost >/dev/null 2>&1 && grep -qx 'kvmgrid/web-01/status tls-localhost' '$KG_TMP/wall.out'"; then
    kg_pass "TLS with the CA, by name (localhost): published and received over TLS"
else
    kg_fail "TLS with the CA by name: nothing arrived ($(cat "$KG_TMP/wall.log"))"
fi
out=$(tls_pub 127.0.0.1 --cafile "$CA" -m tls-ip); rc=$?
kg_assert_eq "TLS with the CA, by IP 127.0.0.1 (SAN)" "0:" "$rc:$out"
kg_wait_for 10 has "kvmgrid/web-01/status tls-ip" && kg_pass "message over TLS by IP delivered" || kg_fail "message over TLS by IP not delivered"

out=$(tls_pub localhost --tls-use-os-certs -m no-ca); rc=$?
kg_assert_eq "TLS without the test CA (system CAs only) fails" "1" "$([ $rc -ne 0 ] && echo 1 || echo 0)"
kg_assert_contains "  ... with a TLS error at the client" "$out" "TLS error"
kg_wait_for 5 grep -q "alert unknown ca" "$KG_TMP/prod.log" &&
    kg_pass "  ... and the broker saw the client reject its CA" || kg_fail "no 'unknown ca' alert in the broker log"

out=$(tls_pub localhost -m plain-on-tls); rc=$?
kg_assert_eq "plain MQTT on the TLS port fails" "1" "$([ $rc -ne 0 ] && echo 1 || echo 0)"

mkdir -p "$KG_TMP/other"
"$KG_BROKER_CFG/mkcerts.sh" -d "$KG_TMP/other" 2>>"$KG_TMP/setup.log" || kg_die "mkcerts.sh (other CA) failed"
out=$(tls_pub localhost --cafile "$KG_TMP/other/ca.crt" -m other-ca); rc=$?
kg_assert_eq "TLS trusting another CA fails" "1" "$([ $rc -ne 0 ] && echo 1 || echo 0)"

out=$("$MOSQUITTO_PUB" -h localhost -p "$KG_PROD_TLS_PORT" --cafile "$CA" -q 1 -t kvmgrid/x/status -m anon-tls 2>&1); rc=$?
kg_assert_eq "TLS does not let anonymous clients in" 5 "$rc"
out=$(tls_pub localhost --cafile "$CA" -m hijack-tls -t kvmgrid/web-02/status -V 5)
kg_assert_contains "ACLs apply on the TLS listener too" "$out" "Not authorized"

# Everything refused above never arrived; the marker proves the wall is current.
tls_pub localhost --cafile "$CA" -m tls-last >/dev/null
kg_wait_for 10 has "kvmgrid/web-01/status tls-last" || kg_fail "last TLS message not delivered"
for bad in no-ca plain-on-tls other-ca anon-tls hijack-tls; do
    if grep -q " $bad\$" "$KG_TMP/wall.out"; then kg_fail "'$bad' was delivered"; else kg_pass "'$bad' was not delivered"; fi
done

# The key really is the broker's: the certificate matches and is for a server.
kg_assert_contains "server certificate is for TLS server auth" \
    "$(openssl x509 -in "$KG_PROD_DIR/etc/tls/server.crt" -noout -ext extendedKeyUsage,subjectAltName 2>&1)" "TLS Web Server Authentication"
if [ "$(id -u)" -eq 0 ]; then
    kg_assert_eq "server key is root:mosquitto 0640" "root:mosquitto 640" \
        "$(stat -c '%U:%G %a' "$KG_PROD_DIR/etc/tls/server.key")"
fi
kg_assert_eq "CA key is private (0600)" 600 "$(stat -c %a "$KG_PROD_DIR/etc/tls/ca.key")"
kg_stop "$KG_PROD_PID"

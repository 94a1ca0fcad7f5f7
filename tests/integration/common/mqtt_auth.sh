#!/bin/sh
# SPDX-License-Identifier: MIT
# User name and password reach the broker: the right ones connect, wrong ones are
# refused with the broker's reason logged (rate-limited, retried with backoff,
# never a crash or a busy loop), and anonymous access is refused.
. "${KG_SOURCE_DIR:=$(cd "$(dirname "$0")/../../.." && pwd)}/tests/integration/lib.sh" || exit 1
TOOL=$(kg_bin kg-mqtt-tool)
command -v mosquitto_passwd >/dev/null || kg_die "mosquitto_passwd not installed"
mosquitto_passwd -b -c "$KG_TMP/passwd" agent-h1 's3cret pass' || kg_die "mosquitto_passwd"
chmod 0644 "$KG_TMP/passwd"; chmod 0755 "$KG_TMP"
printf 'allow_anonymous false\npassword_file %s\n' "$KG_TMP/passwd" >"$KG_TMP/auth.conf"
kg_broker_start "$KG_TMP/auth.conf"

"$TOOL" pub "$KG_BROKER_URI" kgtest/auth/ok yes --retain --user agent-h1 --pass 's3cret pass' \
    >"$KG_TMP/ok.log" 2>&1
kg_assert_eq "right credentials: published" 0 $?
kg_assert_eq "message arrived" "kgtest/auth/ok yes" \
    "$(kg_sub_retained "$KG_PORT" kgtest/auth/ok 2 -v -u agent-h1 -P 's3cret pass')"

"$TOOL" pub "$KG_BROKER_URI" kgtest/auth/bad x --user agent-h1 --pass wrong --timeout 3 \
    >"$KG_TMP/bad.log" 2>&1
kg_assert_eq "wrong password: exit 1" 1 $?
kg_assert_contains "reason logged" "$(cat "$KG_TMP/bad.log")" "connection refused: not authorized"
kg_assert_contains "undelivered message reported" "$(cat "$KG_TMP/bad.log")" \
    "1 queued messages for $KG_BROKER_URI were never delivered"
kg_assert_eq "refusal logged once, not per attempt" 1 "$(grep -c 'cannot connect' "$KG_TMP/bad.log")"
attempts=$(grep -c "Client .* disconnected, not authorised" "$KG_TMP/mosquitto.log")
kg_assert_eq "retried with backoff: 2-8 attempts in 3 s" 1 "$(( attempts >= 2 && attempts <= 8 ))"

"$TOOL" pub "$KG_BROKER_URI" kgtest/auth/anon x --timeout 2 >"$KG_TMP/anon.log" 2>&1
kg_assert_eq "anonymous refused: exit 1" 1 $?
kg_assert_contains "anonymous reason logged" "$(cat "$KG_TMP/anon.log")" "cannot connect to"

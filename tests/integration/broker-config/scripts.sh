#!/bin/sh
# SPDX-License-Identifier: MIT
# broker-config's files and scripts: the shipped production.conf, production.acl,
# bridge.conf and bridge-summary.conf are what the templates/scripts produce;
# mosquitto accepts every config; mkusers.sh, mkcerts.sh and render.sh refuse bad input with a clear
# message and exit status 2 (never a half-written file); passwords are stored
# privately and never on a command line; re-running keeps passwords.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/broker-config/broker-lib.sh"
CFG="$KG_SOURCE_DIR/broker-config"

# --- shipped files are up to date with their sources
kg_assert_eq "production.conf is production.conf.in rendered with the defaults" "" \
    "$(env -u CONF_DIR -u DATA_DIR -u RUN_DIR -u LOG_DEST -u TLS_PORT -u LOCAL_PORT \
        "$CFG/render.sh" "$CFG/production.conf.in" | diff - "$CFG/production.conf")"
kg_assert_eq "production.acl is mkusers.sh's ACL for the example users" "" \
    "$("$CFG/mkusers.sh" --acl-only agent:web-01 wall:lobby load:vm-7 operator:alice | diff - "$CFG/production.acl")"
echo 'example-password' > "$KG_TMP/bp"
kg_assert_eq "bridge.conf is bridge.conf.in rendered with the defaults" "" \
    "$(BRIDGE_PASSWORD_FILE="$KG_TMP/bp" "$CFG/render.sh" "$CFG/bridge.conf.in" |
       sed 's/^remote_password .*/remote_password CHANGE-ME/' | diff - "$CFG/bridge.conf")"
kg_assert_eq "bridge-summary.conf is bridge-summary.conf.in rendered with the defaults" "" \
    "$(env -u BRIDGE_KEEPALIVE -u BRIDGE_RESTART_TIMEOUT BRIDGE_PASSWORD_FILE="$KG_TMP/bp" \
        "$CFG/render.sh" "$CFG/bridge-summary.conf.in" |
       sed 's/^remote_password .*/remote_password CHANGE-ME/' | diff - "$CFG/bridge-summary.conf")"
kg_assert_eq "dev.conf has no listener (the starter adds one)" "" "$(grep -E '^[[:space:]]*listener' "$CFG/dev.conf")"

# --- mosquitto accepts each config: it starts and listens.
accepts() { # NAME CONFFILE PORT
    if kg_mosquitto_start "$1" "$2" "$3"; then kg_pass "mosquitto accepts $1"
    else kg_fail "mosquitto refuses $1: $(tail -n 3 "$KG_TMP/$1.log")"; fi
    kg_stop "$KG_LAST_PID"
}
P=$(kg_free_port)
{ echo "listener $P 127.0.0.1"; cat "$CFG/dev.conf"; } > "$KG_TMP/dev.conf"
accepts dev.conf "$KG_TMP/dev.conf" "$P"
kg_prod_setup prod agent:web-01
accepts production.conf "$KG_PROD_CONF" "$KG_PROD_TLS_PORT"
P2=$(kg_free_port)
{ echo "listener $P2 127.0.0.1"; cat "$CFG/dev.conf"
  CENTRE_ADDRESS=127.0.0.1:1 BRIDGE_PASSWORD_FILE="$KG_TMP/bp" BRIDGE_CAFILE="$KG_PROD_DIR/etc/tls/ca.crt" \
      "$CFG/render.sh" "$CFG/bridge.conf.in"; } > "$KG_TMP/bridge.conf"
accepts bridge.conf "$KG_TMP/bridge.conf" "$P2"
P3=$(kg_free_port)
{ echo "listener $P3 127.0.0.1"; cat "$CFG/dev.conf"
  CENTRE_ADDRESS=127.0.0.1:1 BRIDGE_PASSWORD_FILE="$KG_TMP/bp" BRIDGE_CAFILE="$KG_PROD_DIR/etc/tls/ca.crt" \
      "$CFG/render.sh" "$CFG/bridge-summary.conf.in"; } > "$KG_TMP/bridge-summary.conf"
accepts bridge-summary.conf "$KG_TMP/bridge-summary.conf" "$P3"
# a site as OPERATIONS.md sets one up: production.conf with the summary bridge appended
{ cat "$KG_PROD_CONF"
  CENTRE_ADDRESS=127.0.0.1:1 BRIDGE_PASSWORD_FILE="$KG_TMP/bp" BRIDGE_CAFILE="$KG_PROD_DIR/etc/tls/ca.crt" \
      "$CFG/render.sh" "$CFG/bridge-summary.conf.in"; } > "$KG_PROD_DIR/site.conf"
accepts "production.conf + bridge-summary.conf" "$KG_PROD_DIR/site.conf" "$KG_PROD_TLS_PORT"

# --- bad input: exit 2, a message naming the problem, nothing written
expect_error() { # WHAT NEEDLE CMD...
    _what=$1; _needle=$2; shift 2
    _out=$("$@" 2>&1); _rc=$?
    kg_assert_eq "$_what: exit status 2" 2 "$_rc"
    kg_assert_contains "$_what: says why" "$_out" "$_needle"
}
D="$KG_TMP/users"
expect_error "mkusers: no users" "no users given" "$CFG/mkusers.sh" -d "$D"
expect_error "mkusers: spec without role" "expected ROLE:NAME" "$CFG/mkusers.sh" -d "$D" web-01
expect_error "mkusers: unknown role" "unknown role 'admin'" "$CFG/mkusers.sh" -d "$D" admin:root
expect_error "mkusers: '/' in a name" "invalid name 'a/b'" "$CFG/mkusers.sh" -d "$D" agent:a/b
expect_error "mkusers: '+' in a name" "invalid name 'a+'" "$CFG/mkusers.sh" -d "$D" agent:a+
expect_error "mkusers: '#' in a name" "invalid name" "$CFG/mkusers.sh" -d "$D" 'load:#'
expect_error "mkusers: '@' in an agent name" "invalid name 'wall@x'" "$CFG/mkusers.sh" -d "$D" agent:wall@x
expect_error "mkusers: empty name" "invalid name ''" "$CFG/mkusers.sh" -d "$D" agent:
expect_error "mkusers: name too long" "invalid name" "$CFG/mkusers.sh" -d "$D" "agent:$(printf 'h%.0s' $(seq 1 64))"
expect_error "mkusers: wildcard prefix" "invalid prefix 'kv/+'" "$CFG/mkusers.sh" -d "$D" -p kv/+ agent:h
expect_error "mkusers: \$SYS prefix" "invalid prefix" "$CFG/mkusers.sh" -d "$D" -p '$SYS' agent:h
expect_error "mkusers: unknown option" "unknown option --bogus" "$CFG/mkusers.sh" --bogus
kg_assert_eq "mkusers: nothing written after errors" "" "$(ls "$D" 2>/dev/null)"
expect_error "mkcerts: bad SAN" "invalid SAN" "$CFG/mkcerts.sh" -d "$KG_TMP/c" 'DNS:bad name'
expect_error "mkcerts: unknown argument" "unknown argument" "$CFG/mkcerts.sh" -d "$KG_TMP/c" example.com
expect_error "mkcerts: bad --days" "--days must be a number" "$CFG/mkcerts.sh" -d "$KG_TMP/c" --days soon
expect_error "mkcerts: bad --cn" "invalid --cn" "$CFG/mkcerts.sh" -d "$KG_TMP/c" --cn 'a b'
kg_assert_eq "mkcerts: nothing written after errors" "" "$(ls "$KG_TMP/c" 2>/dev/null)"
printf 'x @NOPE@\n' > "$KG_TMP/t.in"
expect_error "render: unknown placeholder" "unknown placeholder(s): @NOPE@" "$CFG/render.sh" "$KG_TMP/t.in"
expect_error "render: missing template" "cannot read" "$CFG/render.sh" "$KG_TMP/none.in"
expect_error "render: '|' in a value" "must not contain" env TLS_PORT='1|2' "$CFG/render.sh" "$CFG/production.conf.in"
expect_error "render: bridge without password file" "needs the bridge password" \
    env BRIDGE_PASSWORD_FILE="$KG_TMP/none" "$CFG/render.sh" "$CFG/bridge.conf.in"
expect_error "render: summary bridge without password file" "needs the bridge password" \
    env BRIDGE_PASSWORD_FILE="$KG_TMP/none" "$CFG/render.sh" "$CFG/bridge-summary.conf.in"

# --- mkusers: private credentials, stable passwords, --reset, permissions
"$CFG/mkusers.sh" -d "$D" agent:web-01 wall:lobby 2>/dev/null || kg_fail "mkusers.sh failed"
pw1=$(cat "$D/credentials/web-01.pass")
kg_assert_eq "generated password is long" 1 "$([ ${#pw1} -ge 24 ] && echo 1 || echo 0)"
kg_assert_eq "password file entry is a PBKDF2-SHA512 hash, not the password" 0 "$(grep -c -- "$pw1" "$D/passwd")"
kg_assert_eq "credentials are 0600" 600 "$(stat -c %a "$D/credentials/web-01.pass")"
kg_assert_eq "credentials dir is 0700" 700 "$(stat -c %a "$D/credentials")"
if [ "$(id -u)" -eq 0 ]; then
    kg_assert_eq "passwd is root:mosquitto 0640" "root:mosquitto 640" "$(stat -c '%U:%G %a' "$D/passwd")"
    kg_assert_eq "acl is root:mosquitto 0640" "root:mosquitto 640" "$(stat -c '%U:%G %a' "$D/acl")"
fi
"$CFG/mkusers.sh" -d "$D" load:vm-7 2>/dev/null || kg_fail "mkusers.sh (add) failed"
kg_assert_eq "adding a user keeps the others' passwords" "$pw1" "$(cat "$D/credentials/web-01.pass")"
kg_assert_contains "the ACL is rebuilt with every user" "$(cat "$D/acl")" "user load@vm-7"
kg_assert_contains "  ... keeping the earlier ones" "$(cat "$D/acl")" "user wall@lobby"
kg_assert_eq "  ... and the passwd has all three" 3 "$(grep -c ':\$7\$' "$D/passwd")"
"$CFG/mkusers.sh" -d "$D" --reset agent:web-01 2>/dev/null || kg_fail "mkusers.sh --reset failed"
kg_assert_eq "--reset gives a new password" 1 "$([ "$pw1" != "$(cat "$D/credentials/web-01.pass")" ] && echo 1 || echo 0)"
out=$("$CFG/mkusers.sh" -d "$D" --print operator:alice 2>/dev/null)
kg_assert_eq "--print prints the new user's password" "operator@alice	$(cat "$D/credentials/operator@alice.pass")" "$out"
out=$("$CFG/mkusers.sh" -d "$D" operator:bob 2>&1)
kg_assert_not_contains "without --print no password is shown" "$out" "$(cat "$D/credentials/operator@bob.pass")"
kg_assert_eq "mkusers passes passwords to mosquitto_passwd through a pipe, never argv" "" \
    "$(grep -n 'mosquitto_passwd.*-b' "$CFG/mkusers.sh")"
acl=$("$CFG/mkusers.sh" --acl-only -p kvmgrid bridge:site1 wall:hq)
kg_assert_contains "a bridge site prefix is readable by walls" "$acl" "topic read site1/kvmgrid/#"
kg_assert_contains "the bridge writes only under its site prefix" "$acl" "topic write site1/kvmgrid/+/vm/+"
acl=$("$CFG/mkusers.sh" --acl-only -p kvmgrid bridge-summary:site2 wall:hq)
kg_assert_contains "a summary bridge writes its site's link state" "$acl" 'topic write site2/kvmgrid/$bridge/state'
kg_assert_contains "a summary bridge writes its site's summaries" "$acl" "topic write site2/kvmgrid/+/summary"
kg_assert_not_contains "a summary bridge writes no metrics" "$acl" "site2/kvmgrid/+/metrics"
kg_assert_contains "a summary-bridged site is readable by walls" "$acl" "topic read site2/kvmgrid/#"
expect_error "mkusers: a site bridged both ways" "given twice: bridge@site2" \
    "$CFG/mkusers.sh" --acl-only bridge:site2 bridge-summary:site2
# Switching a site from the full bridge to the summary bridge keeps its password.
D2="$KG_TMP/users2"
"$CFG/mkusers.sh" -d "$D2" bridge:site5 wall:hq 2>/dev/null || kg_fail "mkusers.sh bridge:site5 failed"
pw5=$(cat "$D2/credentials/bridge@site5.pass")
sed -i 's/^bridge:site5$/bridge-summary:site5/' "$D2/users"
"$CFG/mkusers.sh" -d "$D2" 2>/dev/null || kg_fail "mkusers.sh after switching site5 failed"
kg_assert_contains "switched site: the ACL has the summary bridge" "$(cat "$D2/acl")" 'topic write site5/kvmgrid/$bridge/state'
kg_assert_not_contains "switched site: no full-bridge rights left" "$(cat "$D2/acl")" "site5/kvmgrid/+/vm/+"
kg_assert_eq "switched site: the bridge keeps its password" "$pw5" "$(cat "$D2/credentials/bridge@site5.pass")"

# --- mkusers --remove: gone from passwd, users, credentials and ACL
"$CFG/mkusers.sh" -d "$D" --remove load:vm-7 2>/dev/null || kg_fail "mkusers.sh --remove failed"
kg_assert_eq "removed user gone from passwd" 0 "$(grep -c '^load@vm-7:' "$D/passwd")"
kg_assert_not_contains "removed user gone from the ACL" "$(cat "$D/acl")" "load@vm-7"
kg_assert_eq "removed user's credentials deleted" 0 "$([ -e "$D/credentials/load@vm-7.pass" ] && echo 1 || echo 0)"
kg_assert_contains "other users stay" "$(cat "$D/acl")" "user wall@lobby"
expect_error "mkusers: removing an unknown user" "is not a user" "$CFG/mkusers.sh" -d "$D" --remove agent:nope

#!/bin/sh
# SPDX-License-Identifier: MIT
# Two real brokers bridged with broker-config/bridge.conf.in: a site (dev.conf +
# the rendered bridge) and a centre (production.conf: TLS, passwords, ACLs, the
# bridge user from mkusers.sh bridge:site1). Retained host and VM messages go
# site -> centre under site1/kvmgrid/, also those retained before the centre was
# up, with the retain flag kept; a VM deletion follows; a load command goes
# centre -> site; nothing comes back the way it came (no echo, no loop), and
# topics outside the bridge's set stay where they are.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/broker-config/broker-lib.sh"

# --- the centre, configured but not started yet
kg_prod_setup centre bridge:site1 wall:hq operator:alice
CA="$KG_PROD_DIR/etc/tls/ca.crt"

# --- the site: dev.conf plus the rendered bridge to the centre's TLS port
SITE=site1 PREFIX=kvmgrid REMOTE_PREFIX=site1/kvmgrid CENTRE_ADDRESS="127.0.0.1:$KG_PROD_TLS_PORT" \
    BRIDGE_USER=bridge@site1 BRIDGE_PASSWORD_FILE="$KG_PROD_DIR/etc/credentials/bridge@site1.pass" \
    BRIDGE_CAFILE="$CA" "$KG_BROKER_CFG/render.sh" "$KG_BROKER_CFG/bridge.conf.in" > "$KG_TMP/bridge.conf" ||
    kg_die "render.sh bridge.conf.in failed"
kg_broker_start "$KG_TMP/bridge.conf"
SITE_PORT=$KG_PORT

site_pub() { "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$SITE_PORT" -q 1 "$@"; }
centre_sub_retained() { kg_prod_retained wall@hq "$1"; }

# Retained state published at the site while the centre is down.
site_pub -r -t kvmgrid/web-01/status -m online
site_pub -r -t kvmgrid/web-01/metrics -m '{"cpu_pct":7}'
site_pub -r -t kvmgrid/web-01/summary -m '{"vms":[]}'
site_pub -r -t kvmgrid/web-01/vm/db-1 -m '{"cpu_pct":55}'
site_pub -r -t kvmgrid/web-01/vm/gone -m '{"cpu_pct":1}'
site_pub -r -t kvmgrid/vm-7/load/state -m '{"state":"idle"}'
site_pub -r -t kvmgrid/web-01/notes -m 'not part of the scheme'

kg_prod_start centre
kg_wait_for 30 sh -c "[ \"\$('$MOSQUITTO_SUB' -h 127.0.0.1 -p $SITE_PORT -t '\$SYS/broker/connection/+/state' -C 1 -W 1 2>/dev/null)\" = 1 ]" ||
    kg_die "the bridge never connected (site: $SITE_PORT, centre TLS: $KG_PROD_TLS_PORT)"
kg_pass "bridge connected to the centre over TLS with its own user"

expected='site1/kvmgrid/vm-7/load/state {"state":"idle"}
site1/kvmgrid/web-01/metrics {"cpu_pct":7}
site1/kvmgrid/web-01/status online
site1/kvmgrid/web-01/summary {"vms":[]}
site1/kvmgrid/web-01/vm/db-1 {"cpu_pct":55}
site1/kvmgrid/web-01/vm/gone {"cpu_pct":1}'
centre_complete() { [ "$(centre_sub_retained 'site1/kvmgrid/#')" = "$1" ]; }
kg_wait_for 15 centre_complete "$expected" || true
kg_assert_eq "retained host, summary, VM and load state at the centre, under site1/kvmgrid, retained there too" \
    "$expected" "$(centre_sub_retained 'site1/kvmgrid/#')"
kg_assert_eq "nothing of the site under the centre's own prefix" "" "$(centre_sub_retained 'kvmgrid/#')"

# Live subscribers on both sides record everything from now on.
"$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u operator@alice -P "$(kg_prod_password operator@alice)" \
    -q 1 -t '#' -v > "$KG_TMP/centre.out" 2>"$KG_TMP/centre-sub.log" &
KG_PIDS="$KG_PIDS $!"
"$MOSQUITTO_SUB" -h 127.0.0.1 -p "$SITE_PORT" -q 1 -t 'kvmgrid/#' -v > "$KG_TMP/site.out" 2>"$KG_TMP/site-sub.log" &
KG_PIDS="$KG_PIDS $!"
in_file() { grep -qxF -- "$2" "$1"; }
count() { grep -cxF -- "$2" "$1"; }
kg_wait_for 10 sh -c "'$MOSQUITTO_PUB' -h 127.0.0.1 -p $SITE_PORT -q 1 -t kvmgrid/web-01/status -m ready && grep -qx 'site1/kvmgrid/web-01/status ready' '$KG_TMP/centre.out' && grep -qx 'kvmgrid/web-01/status ready' '$KG_TMP/site.out'" ||
    kg_die "live subscribers never saw the site's status at both ends"

# A VM added and one removed at the site: the centre follows, retained.
site_pub -r -t kvmgrid/web-01/vm/web-9 -m '{"cpu_pct":3}'
site_pub -r -t kvmgrid/web-01/vm/gone -n
kg_wait_for 10 in_file "$KG_TMP/centre.out" 'site1/kvmgrid/web-01/vm/web-9 {"cpu_pct":3}' &&
    kg_pass "live VM message reached the centre" || kg_fail "live VM message did not reach the centre"
expected2='site1/kvmgrid/web-01/vm/db-1 {"cpu_pct":55}
site1/kvmgrid/web-01/vm/web-9 {"cpu_pct":3}'
vms_ok() { [ "$(centre_sub_retained 'site1/kvmgrid/+/vm/+')" = "$expected2" ]; }
kg_wait_for 10 vms_ok || true
kg_assert_eq "VM removal (empty retained) reached the centre" "$expected2" "$(centre_sub_retained 'site1/kvmgrid/+/vm/+')"

# --- a load command centre -> site
"$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u operator@alice -P "$(kg_prod_password operator@alice)" \
    -q 1 -t site1/kvmgrid/vm-7/load/cmd -m '{"cmd":"stop","id":"c1"}' ||
    kg_fail "operator could not publish at the centre"
kg_wait_for 10 in_file "$KG_TMP/site.out" 'kvmgrid/vm-7/load/cmd {"cmd":"stop","id":"c1"}' &&
    kg_pass "load command reached the site under kvmgrid/" || kg_fail "load command did not reach the site"

# No echo of the command back to the centre: anything the site forwarded after
# receiving it would arrive at the centre before this later status (one bridge
# connection, in order).
site_pub -t kvmgrid/web-01/status -m after-cmd
kg_wait_for 10 in_file "$KG_TMP/centre.out" 'site1/kvmgrid/web-01/status after-cmd' || kg_fail "status after the command did not reach the centre"
kg_assert_eq "the command arrived once at the centre (not echoed back by the site)" 1 \
    "$(count "$KG_TMP/centre.out" 'site1/kvmgrid/vm-7/load/cmd {"cmd":"stop","id":"c1"}')"
kg_assert_eq "the command arrived once at the site" 1 \
    "$(count "$KG_TMP/site.out" 'kvmgrid/vm-7/load/cmd {"cmd":"stop","id":"c1"}')"

# No echo the other way: a site message that went up is not brought back down.
site_pub -t kvmgrid/web-01/metrics -m '{"cpu_pct":8}'
kg_wait_for 10 in_file "$KG_TMP/centre.out" 'site1/kvmgrid/web-01/metrics {"cpu_pct":8}' || kg_fail "metrics did not reach the centre"
"$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u operator@alice -P "$(kg_prod_password operator@alice)" \
    -q 1 -t site1/kvmgrid/vm-7/load/cmd -m '{"cmd":"status","id":"c2"}'
kg_wait_for 10 in_file "$KG_TMP/site.out" 'kvmgrid/vm-7/load/cmd {"cmd":"status","id":"c2"}' || kg_fail "second command did not reach the site"
kg_assert_eq "the site's metrics were not brought back down to it" 1 \
    "$(count "$KG_TMP/site.out" 'kvmgrid/web-01/metrics {"cpu_pct":8}')"

# Topics outside the bridge's set stay local: a load command published at the
# site, and a non-scheme topic, never reach the centre.
site_pub -t kvmgrid/vm-7/load/cmd -m local-cmd
site_pub -t kvmgrid/web-01/notes -m local-notes
site_pub -t kvmgrid/web-01/status -m last
kg_wait_for 10 in_file "$KG_TMP/centre.out" 'site1/kvmgrid/web-01/status last' || kg_fail "last status did not reach the centre"
kg_assert_not_contains "a load command published at the site stays at the site" "$(cat "$KG_TMP/centre.out")" "local-cmd"
kg_assert_not_contains "a topic outside the scheme stays at the site" "$(cat "$KG_TMP/centre.out")" "notes"

# The bridge user is confined at the centre: it can't write under the centre's
# own prefix or another site's, nor read other sites' commands.
BPW=$(cat "$KG_PROD_DIR/etc/credentials/bridge@site1.pass")
out=$("$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u bridge@site1 -P "$BPW" -V 5 -q 1 -t kvmgrid/web-01/status -m x 2>&1)
kg_assert_contains "bridge user cannot write the centre's own prefix" "$out" "Not authorized"
out=$("$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u bridge@site1 -P "$BPW" -V 5 -q 1 -t site2/kvmgrid/web-01/status -m x 2>&1)
kg_assert_contains "bridge user cannot write another site's prefix" "$out" "Not authorized"
out=$("$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u bridge@site1 -P "$BPW" -V 5 -q 1 -t site1/kvmgrid/vm-7/load/cmd -m x 2>&1)
kg_assert_contains "bridge user cannot send commands at the centre" "$out" "Not authorized"

kg_broker_stop
kg_stop "$KG_PROD_PID"

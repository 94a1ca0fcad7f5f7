#!/bin/sh
# SPDX-License-Identifier: MIT
# A region on Mosquitto's own bridging: three site brokers (dev.conf + the
# rendered broker-config/bridge-summary.conf.in) and a centre (production.conf:
# TLS, passwords, the ACL of mkusers.sh bridge-summary:SITE), all on free
# loopback ports.
#   1. retained status and summaries published at the sites before the centre is
#      up arrive there under each site's prefix, retained; metrics, VMs and load
#      states do not; each site's link state is "1";
#   2. a real kvmgrid-agent (libvirt test driver) at site 2 killed with SIGKILL:
#      its will "offline" reaches the centre, retained; restarted: "online";
#   3. site 3's broker killed with SIGKILL: its link state at the centre turns "0"
#      (the bridge's will) while sites 1 and 2 keep flowing; what changed at site
#      3 meanwhile arrives once the link is back, exactly once, and the link state
#      turns "1"; a load command published at the centre for a site-3 node reaches
#      site 3 only, once; a summary too big for the centre is dropped at its site
#      without cutting the link;
#   4. a site removed as OPERATIONS.md says leaves nothing at the centre;
#   and the bridge users are confined to their own site and to this mode's topics.
# The test renders the bridges with keepalive 5 s and restart_timeout 1 s (the
# shipped defaults are 60 s and "5 60") so that links come up at once.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/broker-config/broker-lib.sh"
AGENT=$(kg_bin kvmgrid-agent)
TOP=$(kg_bin kvmgrid-top)
. "$KG_SOURCE_DIR/tests/integration/viewer/headless.sh" # WALL, windowless as the wall's tests run it
LINK='$bridge/state'   # under each site's prefix at the centre

# --- the centre, configured but not started yet
kg_prod_setup centre bridge-summary:site1 bridge-summary:site2 bridge-summary:site3 wall:hq operator:alice
CA="$KG_PROD_DIR/etc/tls/ca.crt"

# --- three sites: dev.conf plus the rendered summary bridge to the centre's TLS port.
# siteN.conf is the site with its bridge, siteN-alone.conf the same site without it.
used="$KG_PROD_PORT $KG_PROD_TLS_PORT"
for n in 1 2 3; do
    p=$(kg_free_port)
    while case " $used " in *" $p "*) true ;; *) false ;; esac; do p=$(kg_free_port); done
    used="$used $p"
    eval "S${n}_PORT=$p"
    SITE=site$n PREFIX=kvmgrid REMOTE_PREFIX=site$n/kvmgrid CENTRE_ADDRESS="127.0.0.1:$KG_PROD_TLS_PORT" \
        BRIDGE_USER=bridge@site$n BRIDGE_PASSWORD_FILE="$KG_PROD_DIR/etc/credentials/bridge@site$n.pass" \
        BRIDGE_CAFILE="$CA" BRIDGE_KEEPALIVE=5 BRIDGE_RESTART_TIMEOUT=1 \
        "$KG_BROKER_CFG/render.sh" "$KG_BROKER_CFG/bridge-summary.conf.in" > "$KG_TMP/site$n.bridge" ||
        kg_die "render.sh bridge-summary.conf.in failed for site$n"
    {
        echo "listener $p 127.0.0.1"
        grep -v '^[[:space:]]*listener' "$KG_BROKER_CFG/dev.conf"
        if [ $n -eq 3 ]; then
            # Site 3 keeps its retained state over a SIGKILL: saved after every change.
            mkdir -p "$KG_TMP/site3-data"
            # as root, mosquitto drops to user mosquitto (dev.conf has no 'user' line)
            [ "$(id -u)" -ne 0 ] || chown mosquitto "$KG_TMP/site3-data"
            echo "persistence true"
            echo "persistence_location $KG_TMP/site3-data/"
            echo "autosave_on_changes true"
            echo "autosave_interval 1"
        fi
    } > "$KG_TMP/site$n-alone.conf"
    cat "$KG_TMP/site$n-alone.conf" "$KG_TMP/site$n.bridge" > "$KG_TMP/site$n.conf"
done
site_start() { # N [alone]
    _c="$KG_TMP/site$1.conf"; [ "${2:-}" = alone ] && _c="$KG_TMP/site$1-alone.conf"
    eval "_p=\$S$1_PORT"
    kg_mosquitto_start "site$1" "$_c" "$_p" || kg_die "site$1 broker did not start on $_p"
    eval "S$1_PID=$KG_LAST_PID"
}
spub() { # N mosquitto_pub args...
    eval "_p=\$S$1_PORT"; shift
    "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$_p" -q 1 "$@" || kg_fail "publish at a site failed: $*"
}
site_retained() { eval "_p=\$S$1_PORT"; kg_sub_retained "$_p" "$2" 1 -v | sort; }
summary() { printf '{"host":"%s","v":%s}' "$1" "$2"; }   # a placeholder summary
centre_retained() { kg_prod_retained wall@hq "$1" 1; }
op_pub() { kg_prod_pub operator@alice "$@"; }

for n in 1 2 3; do site_start $n; done

# Retained state at each site while the centre is down: two hosts each with
# status and summary (forwarded), and metrics, a VM and a load state (not).
for n in 1 2 3; do
    for h in hv-${n}1 hv-${n}2; do
        spub $n -r -t kvmgrid/$h/status -m online
        spub $n -r -t kvmgrid/$h/summary -m "$(summary $h 1)"
        spub $n -r -t kvmgrid/$h/metrics -m '{"cpu_pct":5}'
        spub $n -r -t kvmgrid/$h/vm/vm-$h -m '{"cpu_pct":50}'
    done
    spub $n -r -t kvmgrid/vm-${n}1/load/state -m '{"state":"idle"}'
done

kg_prod_start centre
all_links() { [ "$(centre_retained "+/kvmgrid/$LINK")" = "$(for n in 1 2 3; do echo "site$n/kvmgrid/$LINK 1"; done | sort)" ]; }
kg_wait_for 20 all_links ||
    kg_die "not every site's link came up: $(centre_retained "+/kvmgrid/$LINK" | tr '\n' ';')"
kg_pass "three sites bridged to the centre over TLS, each link state retained '1' at the centre"

# A wall at the centre, on the filter a region's wall uses, records everything from now on.
kg_prod_sub_start wall wall@hq '+/kvmgrid/#'
CENTRE_OUT="$KG_TMP/wall.out"
in_file() { grep -qxF -- "$2" "$1"; }
count() { grep -cxF -- "$2" "$1"; }
kg_wait_for 10 sh -c "'$MOSQUITTO_PUB' -h 127.0.0.1 -p $S1_PORT -q 1 -t kvmgrid/ready/status -m ready && grep -qx 'site1/kvmgrid/ready/status ready' '$CENTRE_OUT'" ||
    kg_die "the centre's wall never saw site 1's live status"

# --- 1. retained state from before the centre was up, only status and summary
expected1=$(for n in 1 2 3; do
    echo "site$n/kvmgrid/$LINK 1"
    for h in hv-${n}1 hv-${n}2; do
        echo "site$n/kvmgrid/$h/status online"
        echo "site$n/kvmgrid/$h/summary $(summary $h 1)"
    done
done | sort)
centre_is() { [ "$(centre_retained '+/kvmgrid/+/+')" = "$1" ]; }
kg_wait_for 10 centre_is "$expected1" || true
kg_assert_eq "1: retained status and summaries of all three sites at the centre under site<N>/kvmgrid, retained; no metrics, VMs or load states" \
    "$expected1" "$(centre_retained '+/kvmgrid/+/+')"
kg_assert_eq "1: no VM topic at the centre" "" "$(centre_retained '+/kvmgrid/+/vm/+')"
kg_assert_eq "1: no load state at the centre" "" "$(centre_retained '+/kvmgrid/+/load/state')"
kg_assert_eq "1: nothing under the centre's own prefix" "" "$(centre_retained 'kvmgrid/#')"

# --- 2. a real agent at site 2: its will reaches the centre through the bridge
kg_spawn agent "$AGENT" --libvirt-uri test:///default --broker "tcp://127.0.0.1:$S2_PORT" \
    --host hv-2a --interval 1s --proc-root ""
AGENT_PID=$KG_LAST_PID
kg_wait_for 15 in_file "$CENTRE_OUT" 'site2/kvmgrid/hv-2a/status online' ||
    kg_die "the site-2 agent's status never reached the centre"
site_has_metrics() { [ -n "$(site_retained 2 kvmgrid/hv-2a/metrics)" ]; }
kg_wait_for 10 site_has_metrics || kg_fail "the agent's metrics never reached site 2"
centre_has_summary() { [ -n "$(centre_retained site2/kvmgrid/hv-2a/summary)" ]; }
kg_wait_for 10 centre_has_summary || kg_fail "the agent's summary never reached the centre"
kg_assert_eq "2: the agent's status and summary are at the centre; its metrics and VMs stay at site 2" \
    'site2/kvmgrid/hv-2a/status
site2/kvmgrid/hv-2a/summary' "$(centre_retained 'site2/kvmgrid/hv-2a/#' | cut -d' ' -f1)"
kg_stop "$AGENT_PID" KILL
kg_wait_for 15 in_file "$CENTRE_OUT" 'site2/kvmgrid/hv-2a/status offline' &&
    kg_pass "2: the agent killed with SIGKILL: its will 'offline' reached the centre" ||
    kg_fail "2: the agent's will never reached the centre"
kg_assert_eq "2: 'offline' is retained at the centre" 'site2/kvmgrid/hv-2a/status offline' \
    "$(centre_retained 'site2/kvmgrid/hv-2a/status')"
kg_spawn agent2 "$AGENT" --libvirt-uri test:///default --broker "tcp://127.0.0.1:$S2_PORT" \
    --host hv-2a --interval 1s --proc-root ""
AGENT_PID=$KG_LAST_PID
back_online() { [ "$(count "$CENTRE_OUT" 'site2/kvmgrid/hv-2a/status online')" -ge 2 ]; }
kg_wait_for 15 back_online && kg_pass "2: the agent restarted: 'online' again at the centre" ||
    kg_fail "2: the restarted agent's 'online' never reached the centre"
kg_assert_eq "2: 'online' is retained at the centre" 'site2/kvmgrid/hv-2a/status online' \
    "$(centre_retained 'site2/kvmgrid/hv-2a/status')"

# A region's reader at the centre: kvmgrid-top on the prefix "+/kvmgrid" reads
# every site's summaries; the site is the host's group ("site2/hv-2a"); the
# placeholder summaries of the other hosts are malformed and show no VM.
top_at_centre() {
    "$TOP" --once --broker "tcp://127.0.0.1:$KG_PROD_PORT" --username wall@hq \
        --password-file "$KG_PROD_DIR/etc/credentials/wall@hq.pass" --prefix '+/kvmgrid' \
        --source summaries --sort name --timeout 5s >"$KG_TMP/top.out" 2>"$KG_TMP/top.err"
}
top_sees_agent() { top_at_centre && grep -q '^site2/hv-2a  *test ' "$KG_TMP/top.out"; }
kg_wait_for 15 top_sees_agent ||
    kg_fail "2: kvmgrid-top at the centre never showed site 2's agent: $(cat "$KG_TMP/top.out" "$KG_TMP/top.err")"
kg_assert_eq "2: kvmgrid-top at the centre (prefix +/kvmgrid, summaries): one row per VM of the agent, under its site" \
    "site2/hv-2a test" "$(awk 'NR > 1 && $1 ~ /\// { print $1, $2 }' "$KG_TMP/top.out")"

# --- 3. site 3's link dies: its broker is killed
kg_stop "$S3_PID" KILL
kg_wait_for 15 in_file "$CENTRE_OUT" "site3/kvmgrid/$LINK 0" &&
    kg_pass "3: site 3 killed: the centre published its bridge's will, link state '0'" ||
    kg_fail "3: site 3's link state never turned '0' at the centre"
kg_assert_eq "3: link states retained at the centre: site3 down, sites 1 and 2 up" \
    "$(printf '%s\n' "site1/kvmgrid/$LINK 1" "site2/kvmgrid/$LINK 1" "site3/kvmgrid/$LINK 0" | sort)" \
    "$(centre_retained "+/kvmgrid/$LINK")"
# The wall at the centre says so: the cut site in its header and layout dump.
"$WALL" \
    --broker "tcp://127.0.0.1:$KG_PROD_PORT" --username wall@hq \
    --password-file "$KG_PROD_DIR/etc/credentials/wall@hq.pass" --prefix '+/kvmgrid' \
    --source summaries --size 640x360 --timeout 10s --screenshot "$KG_TMP/centre.png" \
    --dump-layout "$KG_TMP/centre.txt" >"$KG_TMP/centre-wall.log" 2>&1 ||
    kg_fail "3: the wall at the centre failed: $(tail -3 "$KG_TMP/centre-wall.log")"
kg_assert_eq "3: the wall at the centre (prefix +/kvmgrid) shows site 3's link down" \
    "links_down 1 site3" "$(grep '^links_down' "$KG_TMP/centre.txt")"
kg_assert_eq "3: ... and site 2's agent as site2/hv-2a, its VM tiled" "host site2/hv-2a" \
    "$(grep -o '^host site2/hv-2a' "$KG_TMP/centre.txt")"
# Sites 1 and 2 keep flowing meanwhile.
spub 1 -r -t kvmgrid/hv-11/summary -m "$(summary hv-11 2)"
spub 2 -r -t kvmgrid/hv-21/summary -m "$(summary hv-21 2)"
kg_wait_for 10 in_file "$CENTRE_OUT" "site1/kvmgrid/hv-11/summary $(summary hv-11 2)" &&
    kg_wait_for 10 in_file "$CENTRE_OUT" "site2/kvmgrid/hv-21/summary $(summary hv-21 2)" &&
    kg_pass "3: sites 1 and 2 keep flowing while site 3 is cut off" ||
    kg_fail "3: sites 1 and 2 stopped flowing while site 3 was cut off"
# The site works on without its link (started alone: the link stays down): its
# retained state survived the SIGKILL; a summary changes, a host goes offline,
# a host appears.
site_start 3 alone
kg_assert_eq "3: site 3's retained state survived its SIGKILL (persistence)" \
    "kvmgrid/hv-31/summary $(summary hv-31 1)" "$(site_retained 3 kvmgrid/hv-31/summary)"
spub 3 -r -t kvmgrid/hv-31/summary -m "$(summary hv-31 2)"
spub 3 -r -t kvmgrid/hv-32/status -m offline
spub 3 -r -t kvmgrid/hv-33/status -m online
spub 3 -r -t kvmgrid/hv-33/summary -m "$(summary hv-33 1)"
kg_stop "$S3_PID"
kg_assert_eq "3: while the link is down the centre keeps site 3's last summary" \
    "site3/kvmgrid/hv-31/summary $(summary hv-31 1)" "$(centre_retained site3/kvmgrid/hv-31/summary)"
# The link comes back.
site_start 3
site3_up() { [ "$(centre_retained "site3/kvmgrid/$LINK")" = "site3/kvmgrid/$LINK 1" ]; }
kg_wait_for 15 site3_up && kg_pass "3: site 3 back: link state '1' at the centre" ||
    kg_fail "3: site 3's link state never came back to '1'"
expected3=$(printf '%s\n' "site3/kvmgrid/$LINK 1" \
    "site3/kvmgrid/hv-31/status online" "site3/kvmgrid/hv-31/summary $(summary hv-31 2)" \
    "site3/kvmgrid/hv-32/status offline" "site3/kvmgrid/hv-32/summary $(summary hv-32 1)" \
    "site3/kvmgrid/hv-33/status online" "site3/kvmgrid/hv-33/summary $(summary hv-33 1)" | sort)
site3_is() { [ "$(centre_retained 'site3/kvmgrid/#')" = "$1" ]; }
kg_wait_for 10 site3_is "$expected3" || true
kg_assert_eq "3: what changed at site 3 during the outage is at the centre, retained" \
    "$expected3" "$(centre_retained 'site3/kvmgrid/#')"
kg_assert_eq "3: the changed summary reached the centre's wall exactly once" 1 \
    "$(count "$CENTRE_OUT" "site3/kvmgrid/hv-31/summary $(summary hv-31 2)")"
kg_assert_eq "3: the new host's summary reached the centre's wall exactly once" 1 \
    "$(count "$CENTRE_OUT" "site3/kvmgrid/hv-33/summary $(summary hv-33 1)")"

# A load command at the centre for a site-3 node reaches site 3 only, once.
for n in 1 2 3; do
    eval "_p=\$S${n}_PORT"
    "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$_p" -q 1 -t '#' -v > "$KG_TMP/site$n.out" 2>"$KG_TMP/site$n-sub.log" &
    KG_PIDS="$KG_PIDS $!"
    kg_wait_for 10 sh -c "'$MOSQUITTO_PUB' -h 127.0.0.1 -p $_p -q 1 -t kvmgrid/ready/status -m ready$n && grep -qx 'kvmgrid/ready/status ready$n' '$KG_TMP/site$n.out'" ||
        kg_die "site $n's subscriber never became live"
done
CMD='{"cmd":"stop","id":"r1"}'
out=$(op_pub site3/kvmgrid/vm-31/load/cmd "$CMD" -V 5)
kg_assert_not_contains "3: an operator at the centre commands a site-3 node" "$out" "Not authorized"
kg_wait_for 10 in_file "$KG_TMP/site3.out" "kvmgrid/vm-31/load/cmd $CMD" &&
    kg_pass "3: the command reached site 3 under kvmgrid/" || kg_fail "3: the command never reached site 3"
# Sites 1 and 2: a later command to each, through their own links, marks that
# anything routed to them before it has arrived.
for n in 1 2; do
    op_pub "site$n/kvmgrid/sync/load/cmd" "sync$n" >/dev/null
    kg_wait_for 10 in_file "$KG_TMP/site$n.out" "kvmgrid/sync/load/cmd sync$n" || kg_fail "site $n's own command never arrived"
    kg_assert_not_contains "3: the site-3 command did not reach site $n" "$(cat "$KG_TMP/site$n.out")" "vm-31"
done
spub 3 -t kvmgrid/hv-31/status -m after-cmd
kg_wait_for 10 in_file "$CENTRE_OUT" 'site3/kvmgrid/hv-31/status after-cmd' || kg_fail "site 3's status after the command never reached the centre"
kg_assert_eq "3: the command arrived once at site 3" 1 "$(count "$KG_TMP/site3.out" "kvmgrid/vm-31/load/cmd $CMD")"
kg_assert_eq "3: the command was not echoed back to the centre" 1 \
    "$(count "$CENTRE_OUT" "site3/kvmgrid/vm-31/load/cmd $CMD")"
# A summary over the centre's max_packet_size at site 1 is dropped there
# (bridge_max_packet_size): the link stays up and what follows still flows.
head -c 1200000 /dev/zero | tr '\0' x > "$KG_TMP/big"
spub 1 -r -t kvmgrid/hv-11/summary -f "$KG_TMP/big"
spub 1 -r -t kvmgrid/hv-12/summary -m "$(summary hv-12 3)"
kg_wait_for 10 in_file "$CENTRE_OUT" "site1/kvmgrid/hv-12/summary $(summary hv-12 3)" &&
    kg_pass "an oversized summary at site 1 did not stop what follows it" ||
    kg_fail "site 1 stopped flowing after an oversized summary"
kg_assert_eq "site 1's link stayed up" 0 "$(count "$CENTRE_OUT" "site1/kvmgrid/$LINK 0")"
kg_assert_eq "the centre keeps site 1's last summary that fits" "site1/kvmgrid/hv-11/summary $(summary hv-11 2)" \
    "$(centre_retained site1/kvmgrid/hv-11/summary)"

# No loop, nothing doubled: the centre holds nothing but site<N>/kvmgrid/<host>/{status,summary}
# and link states; each site holds nothing of another site, only its own link state.
kg_assert_eq "no topic at the centre outside the scheme (no site<N>/kvmgrid/site<M>/...)" "" \
    "$(centre_retained '#' | cut -d' ' -f1 | grep -Ev '^site[123]/kvmgrid/([^/]+/(status|summary)|\$bridge/state)$')"
for n in 1 2 3; do
    kg_assert_eq "site $n holds no other site's topics, only its own link state" "site$n/kvmgrid/$LINK 1" \
        "$(site_retained $n '+/kvmgrid/#')"
done

# --- the bridge users at the centre: their own site, this mode's topics only
B2PW=$(kg_prod_password bridge@site2)
for t in "site1/kvmgrid/hv-11/status" "site1/kvmgrid/hv-11/summary" "site1/kvmgrid/$LINK" \
         "site2/kvmgrid/hv-21/metrics" "site2/kvmgrid/hv-21/vm/vm-x" "site2/kvmgrid/vm-21/load/state" \
         "site2/kvmgrid/vm-21/load/cmd" "kvmgrid/hv-21/status" "site2/kvmgrid/hv-21/other"; do
    out=$(kg_prod_pub bridge@site2 "$t" bridge-wrote -V 5)
    kg_assert_contains "site-2 bridge user cannot write $t" "$out" "Not authorized"
done
out=$(kg_prod_pub bridge@site2 site2/kvmgrid/acl-probe/summary '{}' -V 5)
kg_assert_not_contains "site-2 bridge user writes its own site's summaries" "$out" "Not authorized"
out=$(kg_prod_pub bridge@site2 site2/kvmgrid/acl-probe/status probe -V 5)
kg_assert_not_contains "site-2 bridge user writes its own site's statuses" "$out" "Not authorized"
# A will is checked against the ACL when it fires (mosquitto 2.0.11 accepts the
# CONNECT): site 2 cannot mark site 1 down with its own will.
"$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u bridge@site2 -P "$B2PW" -t site2/kvmgrid/+/load/cmd \
    --will-topic "site1/kvmgrid/$LINK" --will-payload forged --will-retain --will-qos 1 \
    -v >"$KG_TMP/forger.out" 2>"$KG_TMP/forger.log" &
FORGER=$!
KG_PIDS="$KG_PIDS $FORGER"
kg_wait_for 10 sh -c "'$MOSQUITTO_PUB' -h 127.0.0.1 -p $KG_PROD_PORT -u operator@alice -P '$(kg_prod_password operator@alice)' -q 1 -t site2/kvmgrid/forge/load/cmd -m up && grep -q up '$KG_TMP/forger.out'" ||
    kg_fail "the client with a forged will never connected"
for t in "site1/kvmgrid/hv-11/status" "site1/kvmgrid/$LINK" "site1/kvmgrid/vm-11/load/cmd"; do
    out=$(kg_prod_pub wall@hq "$t" wall-wrote -V 5)
    kg_assert_contains "centre wall cannot write $t" "$out" "Not authorized"
done
# What a bridge user reads: only its own site's commands.
kg_prod_sub_start b2read bridge@site2 '#'
kg_wait_for 10 sh -c "'$MOSQUITTO_PUB' -h 127.0.0.1 -p $KG_PROD_PORT -u operator@alice -P '$(kg_prod_password operator@alice)' -q 1 -t site2/kvmgrid/vm-21/load/cmd -m go2 && grep -qx 'site2/kvmgrid/vm-21/load/cmd go2' '$KG_TMP/b2read.out'" ||
    kg_fail "site-2 bridge user never read its own site's command"
op_pub site1/kvmgrid/vm-11/load/cmd go1 >/dev/null
kg_prod_sync "$KG_TMP/b2read.out" operator@alice site2/kvmgrid/vm-21/load/cmd
kg_assert_eq "site-2 bridge user reads only site 2's load commands" "" \
    "$(grep -v '^site2/kvmgrid/vm-21/load/cmd ' "$KG_TMP/b2read.out")"
kg_stop "$FORGER" KILL
kg_prod_sync "$CENTRE_OUT" bridge@site2 site2/kvmgrid/acl-probe/status
kg_assert_eq "site 1's link state is still '1' after a site-2 client with a forged will died" \
    "site1/kvmgrid/$LINK 1" "$(centre_retained "site1/kvmgrid/$LINK")"
for bad in bridge-wrote wall-wrote forged; do
    kg_assert_eq "refused payload '$bad' reached no wall" "" "$(grep " $bad\$" "$CENTRE_OUT")"
done
kg_assert_contains "the centre's wall on +/kvmgrid/# read all three sites" \
    "$(cut -d/ -f1 "$CENTRE_OUT" | sort -u | tr '\n' ' ')" "site1 site2 site3"

# --- removing a site (docs/OPERATIONS.md, "Removing a site"): its bridge goes,
#     its own bridge user clears what it left retained at the centre, then the
#     user is removed.
others=$(centre_retained '+/kvmgrid/#' | grep -v '^site1/')
kg_stop "$S1_PID"
kg_wait_for 10 in_file "$CENTRE_OUT" "site1/kvmgrid/$LINK 0" || kg_fail "site 1's link state never turned '0'"
B1PW=$(kg_prod_password bridge@site1)
kg_sub_retained "$KG_PROD_PORT" 'site1/kvmgrid/#' 2 -F '%t' -u operator@alice -P "$(kg_prod_password operator@alice)" |
    while read -r t; do
        "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PROD_PORT" -u bridge@site1 -P "$B1PW" -q 1 -r -n -t "$t"
    done
kg_assert_eq "removed site: nothing of site 1 left at the centre" "" "$(centre_retained 'site1/kvmgrid/#')"
# By topic: the site-2 agent's summary keeps changing meanwhile.
kg_assert_eq "removed site: the other sites untouched" "$(echo "$others" | cut -d' ' -f1)" \
    "$(centre_retained '+/kvmgrid/#' | cut -d' ' -f1)"
"$KG_BROKER_CFG/mkusers.sh" -d "$KG_PROD_DIR/etc" --remove bridge-summary:site1 2>>"$KG_TMP/setup.log" ||
    kg_fail "mkusers.sh --remove bridge-summary:site1 failed"
kill -HUP "$KG_PROD_PID"
kg_wait_for 10 sh -c "! '$MOSQUITTO_PUB' -h 127.0.0.1 -p $KG_PROD_PORT -u bridge@site1 -P '$B1PW' -q 1 -t site1/kvmgrid/x/status -m x" &&
    kg_pass "removed site: its bridge user is refused after the reload" ||
    kg_fail "removed site: its bridge user still connects"

kg_stop "$AGENT_PID"
for n in 2 3; do eval "kg_stop \$S${n}_PID"; done
kg_stop "$KG_PROD_PID"

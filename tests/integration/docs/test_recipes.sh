#!/bin/sh
# SPDX-License-Identifier: MIT
# docs/RECIPES.md works exactly as printed: every block marked "<!-- recipe: NAME -->"
# is copied out of the file and run with sh against a private broker that holds a
# small grid (payloads made by libkvmgrid's encoders, as the agent's are) and a real
# kvmgrid-load --listen as node web-01. The broker's address comes from the
# clients' option files under $XDG_CONFIG_HOME, as RECIPES.md tells its readers to
# set it up; the recipes name none. Each recipe's output is checked.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

RECIPES=$KG_SOURCE_DIR/docs/RECIPES.md
GRIDPUB=$(kg_bin kg-wall-gridpub) LOAD=$(kg_bin kvmgrid-load)
command -v jq >/dev/null || kg_die "jq missing (package jq)"

# recipe NAME: the text of the recipe's sh block
recipe() { kg_doc_block "$RECIPES" "$1"; }
# run NAME: runs the recipe as printed; its output in $KG_TMP/NAME.out
run() {
    text=$(recipe "$1")
    [ -n "$text" ] || kg_die "no recipe $1 in docs/RECIPES.md"
    sh -c "$text" >"$KG_TMP/$1.out" 2>"$KG_TMP/$1.err"
    echo $?
}

kg_broker_start
export XDG_CONFIG_HOME=$KG_TMP/config
mkdir -p "$XDG_CONFIG_HOME"
printf -- '-h 127.0.0.1\n-p %s\n' "$KG_PORT" >"$XDG_CONFIG_HOME/mosquitto_sub"
cp "$XDG_CONFIG_HOME/mosquitto_sub" "$XDG_CONFIG_HOME/mosquitto_pub"

vm() { # HOST VM CPU STATE [stale]
    kg_pub "kvmgrid/$1/vm/$2" "$("$GRIDPUB" --print-vm "$1" "$2" "$3" "$4" ${5:-})" -r
}
kg_pub kvmgrid/hv-01/status online -r
kg_pub kvmgrid/hv-01/metrics "$("$GRIDPUB" --print-host hv-01 5)" -r
vm hv-01 web-01 30 running
vm hv-01 db-01 95 running
vm hv-01 spare 0 shutoff
kg_pub kvmgrid/hv-02/status online -r
vm hv-02 a 80 running
vm hv-02 b 10 running
vm hv-02 c 99 running
vm hv-02 d 50 running stale
kg_pub kvmgrid/hv-old/status offline -r
vm hv-old retired-vm 5 running
vm hv-old other 1 running

# watch one host: the retained state, then an update as it comes
sh -c "$(recipe watch-host)" >"$KG_TMP/watch.out" 2>&1 &
WPID=$!
KG_PIDS="$KG_PIDS $WPID"
watch_has() { [ "$(grep -c '^kvmgrid/hv-01/' "$KG_TMP/watch.out")" -ge "$1" ]; }
kg_wait_for 10 watch_has 5 || kg_fail "watch-host: retained state not shown: $(cat "$KG_TMP/watch.out")"
kg_adopt_children "$WPID"
vm hv-01 web-01 31 running
kg_wait_for 10 watch_has 6 || kg_fail "watch-host: the update was not shown"
kg_stop_tree "$WPID"
w=$(cat "$KG_TMP/watch.out")
kg_assert_contains "watch-host: status" "$w" "kvmgrid/hv-01/status online"
kg_assert_contains "watch-host: host figures" "$w" "kvmgrid/hv-01/metrics {"
kg_assert_contains "watch-host: a VM" "$w" "kvmgrid/hv-01/vm/db-01 {"
kg_assert_contains "watch-host: the update" "$(tail -n 1 "$KG_TMP/watch.out")" '"cpu_pct":31'
kg_assert_not_contains "watch-host: only that host" "$w" "hv-02"

# the five hottest running VMs
run hottest >/dev/null
printf '99%%\thv-02/c\n95%%\thv-01/db-01\n80%%\thv-02/a\n50%%\thv-02/d\n31%%\thv-01/web-01\n' >"$KG_TMP/hottest.want"
if cmp -s "$KG_TMP/hottest.want" "$KG_TMP/hottest.out"; then kg_pass "hottest: the five, hottest first"
else kg_fail "hottest: $(diff "$KG_TMP/hottest.want" "$KG_TMP/hottest.out")"; fi

# stale VMs and offline hosts
kg_assert_eq "stale: exit status" 0 "$(run stale)"
kg_assert_eq "stale: the stale VM" "hv-02/d stale, figures 30 s old" "$(cat "$KG_TMP/stale.out")"
kg_assert_eq "offline: exit status" 0 "$(run offline)"
kg_assert_eq "offline: the offline host" "kvmgrid/hv-old/status offline" "$(cat "$KG_TMP/offline.out")"

# start and stop a load on a real listener
kg_spawn load "$LOAD" --listen --broker "$KG_BROKER_URI" --node web-01 --max-workers 1 \
    --state-interval 500ms
kg_wait_for 10 kg_has_retained kvmgrid/web-01/load/state || kg_die "the load generator never said its state"
kg_assert_eq "load-start: exit status" 0 "$(run load-start)"
load_is() { run load-state >/dev/null; grep -q "\"status\":\"$1\",\"id\":\"$2\"" "$KG_TMP/load-state.out"; }
kg_wait_for 10 load_is running r1 && kg_pass "load-state: running r1 ($(cat "$KG_TMP/load-state.out"))" ||
    kg_fail "load-state: never running r1: $(cat "$KG_TMP/load-state.out")"
kg_assert_contains "load-state: the load" "$(cat "$KG_TMP/load-state.out")" '"load":{"kind":"cpu"'
kg_assert_eq "load-stop: exit status" 0 "$(run load-stop)"
load_idle() { run load-state >/dev/null; grep -q '"status":"idle"' "$KG_TMP/load-state.out"; }
kg_wait_for 10 load_idle && kg_pass "load-stop: idle again ($(cat "$KG_TMP/load-state.out"))" ||
    kg_fail "load-stop: still $(cat "$KG_TMP/load-state.out")"

# clear one left-over topic, then everything under a host
kg_assert_eq "clear-one: exit status" 0 "$(run clear-one)"
kg_no_retained kvmgrid/hv-old/vm/retired-vm && kg_pass "clear-one: the VM's topic is gone" ||
    kg_fail "clear-one: still retained"
kg_assert_eq "clear-one: the rest stays" "kvmgrid/hv-old/status
kvmgrid/hv-old/vm/other" "$(kg_retained_topics 'kvmgrid/hv-old/#')"
kg_assert_eq "clear-host: exit status" 0 "$(run clear-host)"
kg_assert_eq "clear-host: nothing retained under the host" "" "$(kg_retained_topics 'kvmgrid/hv-old/#')"
kg_assert_eq "clear-host: other hosts untouched (status and 4 VMs)" 5 "$(kg_retained_topics 'kvmgrid/hv-02/#' | wc -l)"

# every recipe in the file was run above
all=$(sed -n 's/^<!-- recipe: \(.*\) -->$/\1/p' "$RECIPES" | sort | tr '\n' ' ')
kg_assert_eq "every recipe is tested" \
    "clear-host clear-one hottest load-start load-state load-stop offline stale watch-host " "$all"

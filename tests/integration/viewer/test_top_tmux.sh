#!/bin/sh
# SPDX-License-Identifier: MIT
# kvmgrid-top in a real terminal: a detached tmux session of a fixed size on its
# own socket (never the user's tmux server), keys sent with send-keys, the
# screen read with capture-pane and polled with a deadline. A grid publisher
# (kg-wall-gridpub --wave) keeps 2 hosts x 3 VMs moving, one VM hot: the table
# refreshes by itself, sorts (0, r, 1), filters by host (/ ... Enter, Esc),
# shows alerts only (a), the help (h), a new VM as it is published, stale
# marks once the publisher is killed, offline marks, wide and escaped names
# aligned, survives resizing down to 2x2 and scrolls, and q exits with 0.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

TOP=$(kg_bin kvmgrid-top)
GRIDPUB=$(kg_bin kg-wall-gridpub)
command -v tmux >/dev/null || kg_die "tmux is not installed (third_party/packages.txt, group test)"

kg_broker_start
B=$KG_BROKER_URI
# every VM and host once a second (host interval 1 s); vm000 of hv0000 at 97 % CPU, 96 %
# memory, the only one over 96 % CPU (the alert line set below) and 95 % memory
kg_spawn gridpub "$GRIDPUB" --broker "$B" --hosts 2 --vms 3 --wave 60 --duration 600 --hot 1
PUB_PID=$KG_LAST_PID

SOCK="$KG_TMP/tmux.sock"
tm() { tmux -u -S "$SOCK" "$@"; }
# top's exit status goes to a file; the pane then stays, so the server does too
tm new-session -d -s top -x 120 -y 40 \
    "LANG=C.UTF-8 '$TOP' --broker '$B' --delay 0.3 --stale-intervals 2 \
     --alert-cpu '96 clear 95.5' 2>'$KG_TMP/top.log'; echo \$? >'$KG_TMP/exit.txt'; exec sleep 600" ||
    kg_die "tmux new-session failed"
TMUX_PID=$(tm display-message -p '#{pid}')
KG_PIDS="$KG_PIDS $TMUX_PID"

pane() { tm capture-pane -p -t top; }
row() { pane | sed -n "$1p"; }
pane_has() { pane | grep -qF -- "$1"; }
pane_lacks() { ! pane | grep -qF -- "$1"; }
row_has() { row "$1" | grep -qF -- "$2"; }
keys() { tm send-keys -t top "$@"; }
# expect WHAT TEXT: the pane shows TEXT within 10 s
expect() {
    if kg_wait_for 10 pane_has "$2"; then kg_pass "$1"
    else kg_fail "$1: [$2] not on the screen:"; pane >&2; fi
}
expect_row() {
    if kg_wait_for 10 row_has "$2" "$3"; then kg_pass "$1"
    else kg_fail "$1: row $2 is not [$3]:"; pane >&2; fi
}
expect_gone() {
    if kg_wait_for 10 pane_lacks "$2"; then kg_pass "$1"
    else kg_fail "$1: [$2] still on the screen:"; pane >&2; fi
}

expect "connected, counts in the header" "hosts 2 (offline 0, stale 0)  VMs 6"
expect "the heading" "HOST   VM    STATE         CPU%   MEM%"
# sorted by CPU by default: the hot VM first, in alert for CPU and memory
expect_row "sort cpu: the hot VM first" 5 "hv0000 vm000 running       97.0   96.0"
expect_row "the hot VM's marks" 5 "! CPU MEM"
expect "the footer" "rows 1-6 of 6  q quit  h help"

keys 0
expect "sort name" "sort: name, A to Z"
expect_row "sort name: first row" 5 "hv0000 vm000"
expect_row "sort name: second row" 6 "hv0000 vm001"
expect_row "sort name: fourth row" 8 "hv0001 vm000"
keys r
expect "reversed" "sort: name, Z to A"
expect_row "reversed: first row" 5 "hv0001 vm002"
keys 1
expect "sort cpu again" "sort: cpu, smallest first"
expect_row "sort cpu, reversed: the hot VM last" 10 "hv0000 vm000"
keys r
expect_row "sort cpu: the hot VM first again" 5 "hv0000 vm000"

# the host filter: typed, applied with Enter, cleared with Esc
keys / h v 0 0 0 1
expect "the filter line" "host filter: hv0001_"
keys Enter
expect "filter applied" "host filter: hv0001"
expect "filter: 3 shown" "shown 3"
expect_gone "filter: hv0000 hidden" "hv0000"
keys Escape
expect "filter cleared" "shown 6"
expect "filter cleared: hv0000 back" "hv0000 vm001"

# alerts only: the hot VM alone; Esc leaves it
keys a
expect "alerts only" "ALERTS ONLY (a)"
expect "alerts only: 1 shown" "shown 1"
expect_gone "alerts only: calm VMs hidden" "vm002"
keys Escape
expect "alerts only left" "shown 6"

# help, closed by Esc
keys h
expect "help" "h ? F1      this help"
keys Escape
expect_gone "help closed" "this help"

# live: a VM published now appears, wide and escaped names aligned
kg_pub 'kvmgrid/web%2F02%20café/vm/中文%01x' \
    "$("$GRIDPUB" --print-vm 'web/02 café' "$(printf '中文\001x')" 42 paused)" -r
expect "a new VM appears" "中文\\x01x"
# terminal columns of the STATE column on the heading and the new row (中, 文 take 2)
cols=$(pane | python3 -c '
import sys, unicodedata
def col(line, what):
    i = line.index(what)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line[:i])
lines = sys.stdin.read().split("\n")
head = next(l for l in lines if l.startswith("HOST"))
row = next(l for l in lines if "paused" in l)
print(col(head, "STATE"), col(row, "paused"))')
set -- $cols
kg_assert_eq "wide name: STATE column aligned" "$1" "$2"
expect "escaped host shown as written" "web/02 café"
expect "hosts counted" "hosts 3"

# offline: the agent's will
kg_pub kvmgrid/hv0001/status offline -r
expect "offline: alerts" "! OFFLINE"
expect "offline: counted" "hosts 3 (offline 1"

# stale: the publisher is gone; 2 intervals of 1 s later its VMs are stale
kg_stop "$PUB_PID" KILL
expect "stale mark once the publisher is gone" "! STALE"
expect "stale: counted" "stale 1)"

# resizing: narrower, smaller, down to 2x2, and back; it keeps running
tm resize-window -t top -x 60 -y 10
expect "resized to 60x10: the heading" "HOST"
wide=$(pane | awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }')
kg_assert_le "60 columns: no line wider" "$wide" 60
# 10 rows: 5 rows of the table; End shows the last of them
keys End
expect "scrolled to the end" "rows 3-7 of 7"
keys Home
expect "scrolled home" "rows 1-5 of 7"
tm resize-window -t top -x 20 -y 5
expect "20x5: still drawn" "kvmgrid-top"
tm resize-window -t top -x 2 -y 2
keys 0 # handled at 2x2: seen once the window is large again
tm resize-window -t top -x 120 -y 40
expect "back to 120x40" "rows 1-7 of 7"
expect "a key at 2x2 was handled" "sort: name, A to Z"
[ ! -f "$KG_TMP/exit.txt" ] && kg_pass "2x2: still running" || kg_fail "2x2: it exited"

# pause: the table stays while the model moves on
keys p
expect "paused" "PAUSED (p)"
keys p
expect_gone "resumed" "PAUSED"

keys q
if kg_wait_for 10 test -s "$KG_TMP/exit.txt"; then
    kg_assert_eq "q: exit status 0" 0 "$(cat "$KG_TMP/exit.txt")"
else
    kg_fail "q: kvmgrid-top did not exit"
fi
kg_assert_eq "no warning or error logged" "" \
    "$(grep -v ' info: ' "$KG_TMP/top.log" || true)"
tm kill-server 2>/dev/null || true
kg_stop "$TMUX_PID"

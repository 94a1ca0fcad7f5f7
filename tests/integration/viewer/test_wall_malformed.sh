#!/bin/sh
# SPDX-License-Identifier: MIT
# A flood of malformed and oversized payloads (bad JSON, wrong types, binary
# garbage, 20 KiB and 1 MiB payloads, bad status words, non-canonical topic
# escapes) into a running wall: it keeps running, keeps applying the good
# messages, and its counters say exactly what was dropped.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

. "$KG_SOURCE_DIR/tests/integration/viewer/headless.sh"

kg_broker_start
kg_spawn wall "$WALL" --broker "$KG_BROKER_URI" --size 640x480 --stats
WALL_PID=$KG_LAST_PID
kg_wait_for 10 grep -q "connected to the broker" "$KG_TMP/wall.log" || kg_die "wall did not connect"

pub() { "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PORT" "$@" || kg_fail "mosquitto_pub $*"; }
# 300 lines of bad JSON, one message per line (-l)
i=0; while [ $i -lt 300 ]; do echo '{"schema":1,"ts":'; i=$((i + 1)); done | pub -t kvmgrid/hv1/vm/bad -l
# 100 wrong types / missing fields
i=0; while [ $i -lt 100 ]; do echo '{"schema":1,"ts":"yesterday","host":"hv1","name":"x","state":"running"}'; i=$((i + 1)); done |
    pub -t kvmgrid/hv1/vm/types -l
# 50 bad host payloads, 50 bad load states, 20 bad status words
i=0; while [ $i -lt 50 ]; do echo '[1,2,3]'; i=$((i + 1)); done | pub -t kvmgrid/hv1/metrics -l
i=0; while [ $i -lt 50 ]; do echo '{"schema":99}'; i=$((i + 1)); done | pub -t kvmgrid/n1/load/state -l
i=0; while [ $i -lt 20 ]; do echo 'maybe'; i=$((i + 1)); done | pub -t kvmgrid/hv1/status -l
# binary garbage, oversized payloads
head -c 4000 /dev/urandom >"$KG_TMP/garbage.bin"
pub -t kvmgrid/hv1/vm/garbage -f "$KG_TMP/garbage.bin"
head -c 20000 /dev/zero | tr '\0' ' ' >"$KG_TMP/big.txt"
head -c 1048576 /dev/zero | tr '\0' '{' >"$KG_TMP/huge.txt"
for n in 1 2 3 4 5; do pub -t kvmgrid/hv1/vm/big -f "$KG_TMP/big.txt"; done
pub -t kvmgrid/hv1/vm/huge -f "$KG_TMP/huge.txt"
# topics with non-canonical escapes (lower-case hex, escaped safe byte)
pub -t 'kvmgrid/h%2fx/vm/a' -m '{}'
pub -t 'kvmgrid/hv1/vm/%41' -m '{}'
# good ones in between, and topics that are not the wall's business
pub -t kvmgrid/hv1/status -m online -r
pub -t kvmgrid/hv1/vm/good -m "$("$GRIDPUB" --print-vm hv1 good 42 running)" -r
pub -t kvmgrid/hv1/vm/bad2 -m '{"schema":1' -r
pub -t kvmgrid/hv1/load/cmd -m '{"anything":1}'
pub -t kvmgrid/hv1/unknown -m 'x'

# total expected: vm 300+100+1+1 = 402, host 50, load 50, status 20, oversized 6, topic 2
expect="malformed 530 topic 2 status 20 host 50 vm 402 load 50 oversized 6"
# SIGUSR1 makes the wall print its counters: poll until everything has been counted.
counted() { kill -USR1 "$WALL_PID"; grep -q "$expect" "$KG_TMP/wall.log"; }
kg_wait_for 30 counted || kg_fail "counters never reached [$expect]"
if kill -0 "$WALL_PID" 2>/dev/null; then kg_pass "wall still running after the flood"; else kg_fail "wall died"; fi
# ... and it still draws: the good VM is on screen and nothing is left to draw.
drawn() { kill -USR1 "$WALL_PID"; tail -n 1 "$KG_TMP/wall.log" | grep -q "^view .* pending 0 "; }
kg_wait_for 30 drawn && kg_pass "wall still drawing (reports pending 0)" || kg_fail "wall never caught up drawing"
kg_stop "$WALL_PID" TERM
kg_assert_eq "wall exit status on SIGTERM" 0 "$KG_EXIT_STATUS"
stats=$(grep '^applied' "$KG_TMP/wall.log" | tail -n 1)
kg_assert_contains "malformed counters" "$stats" "$expect"
kg_assert_contains "good VM applied" "$stats" " vms 1 hosts"
grep -q "frames " "$KG_TMP/wall.log" && kg_pass "frame statistics printed" || kg_fail "no frame statistics"

# A second wall sees the retained leftovers: the last retained bad payload per topic.
"$WALL" --broker "$KG_BROKER_URI" --size 640x480 --screenshot "$KG_TMP/after.png" \
    --dump-layout "$KG_TMP/after.txt" >"$KG_TMP/wall2.log" 2>&1
kg_assert_eq "second wall exit status" 0 $?
kg_assert_contains "second wall shows the good VM" "$(cat "$KG_TMP/after.txt")" "tile hv1 good"
kg_assert_contains "second wall counts the retained bad one" "$(cat "$KG_TMP/after.txt")" "malformed 1 topic 0 status 0 host 0 vm 1 "
kg_assert_contains "online host" "$(grep '^counts' "$KG_TMP/after.txt")" "hosts 1 online 1 "
kg_pub kvmgrid/hv1/vm/bad2 "" -r

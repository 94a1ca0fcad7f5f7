#!/bin/sh
# SPDX-License-Identifier: MIT
# Operator mode against a real mosquitto, headless: a wall started with --operator
# and a user name, told to --operator-send PRESET:VM, selects the VM once the
# retained state is in, sends the preset on <prefix>/<vm>/load/cmd, shows the
# confirmation and the selection frame in its screenshot, and exits 0. A
# subscriber sees exactly the command JSON of each preset, and nothing else: a
# wall without operator mode, or with a bad request, sends nothing.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

. "$KG_SOURCE_DIR/tests/integration/viewer/headless.sh"

kg_broker_start
vm() { # HOST VM
    "$MOSQUITTO_PUB" -h 127.0.0.1 -p "$KG_PORT" -r -t "kvmgrid/$1/vm/$3" \
        -m "$("$GRIDPUB" --print-vm "$1" "$2" 40 running)" || kg_die "publish $1/$2"
}
kg_pub kvmgrid/hv1/status online -r
vm hv1 vm-7 vm-7
vm hv1 vm-8 vm-8
vm hv1 'web 1/x' 'web%201%2Fx'
kg_pub kvmgrid/vm-7/load/state '{"schema":1,"ts":1764412800000,"node":"vm-7","status":"idle"}' -r

# Everything published on any load/cmd topic, in order; subscribed for sure once
# a marker published after it has come back.
kg_spawn cmds "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t 'kvmgrid/+/load/cmd' -v
# marker NAME: publishes NAME once and waits until the subscriber has it
marker() {
    kg_pub kvmgrid/marker/load/cmd "$1"
    kg_wait_for 5 grep -q "^kvmgrid/marker/load/cmd $1\$" "$KG_TMP/cmds.log"
}
i=0; until marker "start-$i"; do i=$((i + 1)); [ $i -lt 10 ] || kg_die "the command subscriber never got a marker"; done

op() { # LOGNAME ARGS...: a headless operator wall; exit status in $?
    _log=$1; shift
    "$WALL" --broker "$KG_BROKER_URI" --size 800x600 --metric cpu --operator --username operator@test "$@" \
        >"$KG_TMP/$_log.log" 2>&1
}

op cpu --operator-send cpu80:vm-7 --screenshot "$KG_TMP/cpu.png" --dump-layout "$KG_TMP/cpu.txt"
kg_assert_eq "cpu80 to vm-7: exit status" 0 $?
kg_assert_contains "cpu80: confirmation logged" "$(cat "$KG_TMP/cpu.log")" \
    "operator: sent CPU 80 % for 60 s (id wall-1) to kvmgrid/vm-7/load/cmd"
kg_assert_not_contains "vm-7's load generator is known" "$(cat "$KG_TMP/cpu.log")" "no load generator"
# The selection frame around vm-7's tile: white outside, black inside.
set -- $(grep '^tile hv1 vm-7 ' "$KG_TMP/cpu.txt"); x=$4 y=$5 t=$6
[ "${t:-0}" -ge 8 ] || kg_die "vm-7's tile missing or too small: $(cat "$KG_TMP/cpu.txt")"
px() { echo "$1 $2" | "$PIXELS" "$KG_TMP/cpu.png" | tail -n 1 | cut -d' ' -f3; }
kg_assert_eq "selected tile: white outer frame" FFFFFF "$(px $((x - 4)) $((y + t / 2)))"
kg_assert_eq "selected tile: black inner frame" 000000 "$(px $((x - 2)) $((y + t / 2)))"
kg_assert_eq "selected tile keeps its colour" "$(px $((x + t / 2)) $((y + t / 2)))" \
    "$(px $((x + t / 2 + 1)) $((y + t / 2)))"
# The confirmation is on the status bar: the screenshot's last rows are not blank.
colours=$(convert "$KG_TMP/cpu.png" -crop 800x14+0+586 -format %k info:)
[ "$colours" -gt 2 ] && kg_pass "status bar drawn ($colours colours)" || kg_fail "status bar empty"

op mem --operator-send mem256:vm-7 --screenshot "$KG_TMP/mem.png"
kg_assert_eq "mem256 to vm-7: exit status" 0 $?
op disk --operator-send DISK20:vm-8 --screenshot "$KG_TMP/disk.png"
kg_assert_eq "disk20 to vm-8 (preset names ignore case): exit status" 0 $?
kg_assert_contains "vm-8 has no load generator: said so" "$(cat "$KG_TMP/disk.log")" \
    "no load generator has reported from it yet"
op stop --operator-send 'stop:web 1/x' --screenshot "$KG_TMP/stop.png"
kg_assert_eq "stop to 'web 1/x' (escaped topic): exit status" 0 $?

# Nothing may be sent by these.
"$WALL" --broker "$KG_BROKER_URI" --operator-send cpu80:vm-7 --screenshot "$KG_TMP/no.png" \
    >"$KG_TMP/noop.log" 2>&1
kg_assert_eq "--operator-send without --operator: exit 2" 2 $?
kg_assert_contains "... and says why" "$(cat "$KG_TMP/noop.log")" "operator mode is off"
[ -e "$KG_TMP/no.png" ] && kg_fail "... yet it ran" || kg_pass "... and did not run"
"$WALL" --broker "$KG_BROKER_URI" --operator --operator-send cpu80:vm-7 >"$KG_TMP/nouser.log" 2>&1
kg_assert_eq "--operator without a user name: exit 2" 2 $?
kg_assert_contains "... and says why" "$(cat "$KG_TMP/nouser.log")" "needs the operator's username"
op badpreset --operator-send gpu99:vm-7
kg_assert_eq "unknown preset: exit 2" 2 $?
kg_assert_contains "... names the presets" "$(cat "$KG_TMP/badpreset.log")" "cpu80, mem256, disk20, stop"
op novm --operator-send cpu80:
kg_assert_eq "no VM name: exit 2" 2 $?
op missing --operator-send cpu80:vm-99 --screenshot "$KG_TMP/missing.png"
kg_assert_eq "a VM not on the wall: exit 1" 1 $?
kg_assert_contains "... and says so" "$(cat "$KG_TMP/missing.log")" "no VM named vm-99"
printf 'broker = %s\noperator_send = stop:vm-7\n' "$KG_BROKER_URI" >"$KG_TMP/noop.conf"
"$WALL" --config "$KG_TMP/noop.conf" --screenshot "$KG_TMP/noop2.png" >"$KG_TMP/noop2.log" 2>&1
kg_assert_eq "operator_send in a config file without operator: exit 2" 2 $?

# All that reached the broker, in order: exactly the four commands.
marker end || kg_fail "the closing marker never came back"
cat >"$KG_TMP/expected.txt" <<'EOF'
kvmgrid/vm-7/load/cmd {"schema":1,"cmd":"start","id":"wall-1","kind":"cpu","duration_s":60,"pct":80}
kvmgrid/vm-7/load/cmd {"schema":1,"cmd":"start","id":"wall-1","kind":"mem","duration_s":60,"mib":256}
kvmgrid/vm-8/load/cmd {"schema":1,"cmd":"start","id":"wall-1","kind":"disk","duration_s":60,"mode":"write","mb_per_s":20}
kvmgrid/web%201%2Fx/load/cmd {"schema":1,"cmd":"stop","id":"wall-1"}
kvmgrid/marker/load/cmd end
EOF
grep -v '^kvmgrid/marker/load/cmd start-' "$KG_TMP/cmds.log" >"$KG_TMP/seen.txt"
if cmp -s "$KG_TMP/expected.txt" "$KG_TMP/seen.txt"; then
    kg_pass "the broker saw exactly the four commands, byte for byte"
else
    kg_fail "commands on the wire differ: $(diff "$KG_TMP/expected.txt" "$KG_TMP/seen.txt")"
fi

#!/bin/sh
# SPDX-License-Identifier: MIT
# e2e smoke test on real QEMU guests (TCG without KVM): the rig starts what is
# missing, boots two tiny guests (tools/guest/), each guest's load generator reaches
# the host's private loopback broker through user-mode networking and publishes its
# retained state; the hypervisor reports CPU, balloon, block and (tap) net figures
# for them; a CPU and a disk load commanded over MQTT show up in that guest's
# hypervisor counters only; a guest destroyed goes away; teardown leaves no
# domain, QEMU process, tap or file behind.
# It starts as on a fresh machine, every run: the guest image is built from an empty
# cache (the kernel and busybox packages downloaded with apt-get), and the libvirtd
# the rig starts has no QEMU capabilities cache and no domain state (rig.sh:
# KG_RIG_COLD; lib-e2e.sh: kg_e2e_check_cold says when that cannot be).
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/e2e/lib-e2e.sh"

g1="kge2e-$$-a"
g2="kge2e-$$-b"

export KG_GUEST_CACHE="$KG_TMP/guest-cache" KG_RIG_COLD=1
kg_broker_start
kg_e2e_up
kg_e2e_check_cold

t0=$(date +%s.%N)
kg_e2e_boot "$g1" --tap
kg_e2e_boot "$g2"
for g in "$g1" "$g2"; do
    if kg_wait_for 180 kg_has_retained "kvmgrid/$g/load/state"; then
        kg_pass "$g: load generator's retained state after $(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { printf "%.1f", a - b }') s"
    else
        kg_die "$g: no retained kvmgrid/$g/load/state within 180 s"
    fi
done
kg_assert_contains "guest console shows the disk mounted" "$(cat "$KG_RIG_DIR/guests/$g1/console.log")" "disk /dev/vda on /data"
kg_assert_contains "guest console shows the network" "$(cat "$KG_RIG_DIR/guests/$g1/console.log")" "10.0.2.15/24 via 10.0.2.2"
# A libvirtd started from empty state keeps the domains' runtime state in its own
# directories, the host's untouched.
if [ -n "$KG_E2E_COLD_DIRS" ]; then
    [ -f "$KG_E2E_COLD_DIRS/run-qemu/$g1.pid" ] && kg_pass "$g1's runtime state in the empty-state libvirtd's own /run/libvirt/qemu" ||
        kg_fail "no $KG_E2E_COLD_DIRS/run-qemu/$g1.pid"
    [ ! -e "/run/libvirt/qemu/$g1.pid" ] && kg_pass "the host's /run/libvirt/qemu does not see $g1" ||
        kg_fail "/run/libvirt/qemu/$g1.pid exists on the host"
fi

# What the hypervisor reports (docs/PLATFORM.md: cpu.*, balloon.* with a stats period,
# block.N.*, net.* only for a tap).
kg_assert_ge "$g1 cpu.time" "$(kg_e2e_domstat "$g1" cpu.time)" 1
kg_assert_ge "$g1 block.0.rd.bytes" "$(kg_e2e_domstat "$g1" block.0.rd.bytes)" 1
kg_assert_eq "$g1 block.0.name" vda "$(kg_e2e_domstat "$g1" block.0.name)"
kg_assert_eq "$g1 net.count (user + tap)" 2 "$(kg_e2e_domstat "$g1" net.count)"
tap=$("$KG_RIG" taps "$g1")
kg_assert_eq "$g1 tap statistics" "$tap" "$(kg_e2e_domstat "$g1" net.1.name)"
[ -n "$tap" ] && ip link show "$tap" >/dev/null 2>&1 && kg_pass "tap $tap exists on the host" || kg_fail "tap '$tap' missing on the host"
kg_assert_eq "$g2 net.count (user only)" 1 "$(kg_e2e_domstat "$g2" net.count)"
# The balloon driver reports once the guest has it loaded; period 2 s.
has_balloon_stats() { [ -n "$(kg_e2e_domstat "$1" balloon.usable)" ]; }
kg_wait_for 30 has_balloon_stats "$g1" && kg_pass "$g1 balloon.usable reported" || kg_fail "$g1: no balloon.usable within 30 s"
kg_assert_ge "$g1 balloon.available (KiB)" "$(kg_e2e_domstat "$g1" balloon.available)" 50000

# A CPU load commanded over MQTT raises that guest's cpu.time only. The same JSON
# drives kvmgrid-load (docs/PROTOCOL.md) and the placeholder.
idle1=$(kg_e2e_rate "$g1" cpu.time 3)
kg_log "$g1 idle: cpu.time +$idle1 ns/s"
kg_pub "kvmgrid/$g1/load/cmd" '{"schema":1,"cmd":"start","id":"smoke-cpu","kind":"cpu","pct":100,"workers":1,"duration_s":120}'
# Thresholds leave room for a host whose 2 cores are shared with compilers: a
# busy vCPU gets ~1 s/s alone, 0.4-0.7 s/s at a load of 4; an idle guest ~0.03 s/s.
busy_now() { [ "$(kg_e2e_rate "$1" cpu.time 2)" -ge 250000000 ]; }
kg_wait_for 60 busy_now "$g1" && kg_pass "$g1 cpu.time rises under a CPU load" || kg_fail "$g1: cpu.time did not reach 0.25 s/s"
busy1=$(kg_e2e_rate "$g1" cpu.time 3)
other=$(kg_e2e_rate "$g2" cpu.time 3)
kg_log "$g1 busy: cpu.time +$busy1 ns/s; $g2 meanwhile: +$other ns/s"
kg_assert_ge "$g1 busy cpu.time rate" "$busy1" 250000000
kg_assert_le "$g2 stays idle" "$other" 150000000
kg_assert_ge "$g1 busy at least 4x the idle guest" "$busy1" "$((other * 4))"
kg_pub "kvmgrid/$g1/load/cmd" '{"schema":1,"cmd":"stop","id":"smoke-stop"}'
idle_now() { [ "$(kg_e2e_rate "$1" cpu.time 2)" -le 150000000 ]; }
kg_wait_for 60 idle_now "$g1" && kg_pass "$g1 back to idle after stop" || kg_fail "$g1: still busy after stop"

# A disk load raises the guest's block write counter.
wr0=$(kg_e2e_domstat "$g1" block.0.wr.bytes)
kg_pub "kvmgrid/$g1/load/cmd" '{"schema":1,"cmd":"start","id":"smoke-disk","kind":"disk","mode":"write","mb_per_s":4,"duration_s":120}'
wrote() { [ "$(kg_e2e_domstat "$1" block.0.wr.bytes)" -ge $(($2 + 4194304)) ]; }
kg_wait_for 60 wrote "$g1" "${wr0:-0}" && kg_pass "$g1 block.0.wr.bytes rises under a disk load" || kg_fail "$g1: block writes did not grow by 4 MiB"
kg_pub "kvmgrid/$g1/load/cmd" '{"schema":1,"cmd":"stop","id":"smoke-stop2"}'

# The shipped scenarios are in the image: a scenario command runs one.
if [ -n "${KG_GUEST_LOAD:-}" ]; then
    kg_pub "kvmgrid/$g1/load/cmd" '{"schema":1,"cmd":"scenario","id":"smoke-scen","scenario":"cpu-ramp"}'
    scen_running() {
        "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t "kvmgrid/$g1/load/state" -C 1 -W 2 2>/dev/null |
            grep '"status":"running"' | grep -q '"scenario":"cpu-ramp"'
    }
    kg_wait_for 60 scen_running && kg_pass "$g1 runs the shipped scenario cpu-ramp" ||
        kg_fail "$g1: scenario cpu-ramp not running: $("$MOSQUITTO_SUB" -h 127.0.0.1 -p "$KG_PORT" -t "kvmgrid/$g1/load/state" -C 1 -W 2 2>/dev/null)"
    kg_pub "kvmgrid/$g1/load/cmd" '{"schema":1,"cmd":"stop","id":"smoke-stop3"}'
fi

# Destroying one guest removes it from libvirt and its files; the other runs on.
kg_e2e_destroy "$g2"
if "$KG_RIG" virsh domstate "$g2" >/dev/null 2>&1; then kg_fail "$g2 still defined"; else kg_pass "$g2 undefined"; fi
kg_assert_eq "$g1 still running" running "$("$KG_RIG" virsh domstate "$g1" 2>/dev/null)"

kg_e2e_check_consoles

# Teardown leaves nothing behind.
kg_e2e_save_consoles
"$KG_RIG" down >>"$KG_TMP/rig.log" 2>&1 || kg_fail "rig down"
[ -d "$KG_RIG_DIR" ] && kg_fail "rig directory left behind" || kg_pass "rig directory removed"
for g in "$g1" "$g2"; do
    if pgrep -f "guest=$g," >/dev/null 2>&1; then kg_fail "a QEMU process of $g survived"; else kg_pass "no QEMU process of $g"; fi
    [ -e "/etc/libvirt/qemu/$g.xml" ] && kg_fail "$g still defined in /etc/libvirt/qemu" || kg_pass "$g not in /etc/libvirt/qemu"
    [ -e "/var/log/libvirt/qemu/$g.log" ] && kg_fail "$g's qemu log left behind" || kg_pass "$g's qemu log removed"
done
if [ -n "$tap" ] && ip link show "$tap" >/dev/null 2>&1; then kg_fail "tap $tap left behind"; else kg_pass "tap $tap removed"; fi
# The empty-state directories go with their libvirtd; one handed over to another
# rig keeps them.
if [ -n "$KG_E2E_COLD_DIRS" ]; then
    _lv=${KG_E2E_COLD_DIRS##*/libvirtd-}
    if [ "$(cat "/proc/$_lv/comm" 2>/dev/null)" = libvirtd ]; then
        [ -d "$KG_E2E_COLD_DIRS" ] && kg_pass "libvirtd $_lv handed over to another rig, its state kept" ||
            kg_fail "libvirtd $_lv runs on without its state directory $KG_E2E_COLD_DIRS"
    else
        [ ! -e "$KG_E2E_COLD_DIRS" ] && kg_pass "libvirtd $_lv stopped and its state directory removed" ||
            kg_fail "$KG_E2E_COLD_DIRS left behind by a stopped libvirtd"
    fi
fi
exit 0

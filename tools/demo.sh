#!/bin/bash
# SPDX-License-Identifier: MIT
# kvmgrid's main job on embedded defaults (`./run.sh demo` runs it after the build):
#
#   1. a private Mosquitto on a free loopback port with broker-config/dev.conf;
#   2. a few tiny QEMU guests under libvirtd (tools/guest/rig.sh: KVM when the CPU has
#      it, TCG otherwise), each running kvmgrid-load --listen against that broker and
#      given the next shipped validation scenario whenever it is idle, so the load
#      keeps changing;
#   3. kvmgrid-agent on qemu:///system, publishing every 2 s;
#   4. kvmgrid-wall full screen when there is a display; without one, a headless
#      screenshot refreshed every 30 s, whose path is printed.
#
# It prints how to watch the topics and send a load command. Ctrl-C (or SIGTERM)
# stops everything it started, by PID, and removes the guests, their files and the
# daemons the rig started: nothing is left running.
#
# Usage: tools/demo.sh [--build DIR] [--guests N] [--existing] [--no-wall] [--port N]
#   --existing   monitor the VMs of the libvirtd already running here (qemu:///system)
#                instead of booting guests; no load is sent
#   --guests N   guests to boot (default 3, at most 8)
#   --no-wall    do not start the wall (watch with mosquitto_sub)
# Needs root (libvirtd's system instance), as `./run.sh demo` is run.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build"
port="" guests=3 existing=0 wall=1
usage() { sed -n '3,23p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --port) port=$2; shift 2 ;;
    --guests) guests=$2; shift 2 ;;
    --existing) existing=1; shift ;;
    --no-wall) wall=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done
case "$guests" in [1-8]) ;; *) echo "demo: --guests takes 1 to 8" >&2; exit 2 ;; esac
case "$port" in ''|[0-9]*) ;; *) echo "demo: --port takes a number" >&2; exit 2 ;; esac
for p in agent/kvmgrid-agent loadgen/kvmgrid-load viewer/kvmgrid-wall; do
    [ -x "$build/$p" ] || { echo "demo: $build/$p is not built (./run.sh demo builds it)" >&2; exit 1; }
done
if [ "$(id -u)" -ne 0 ]; then
    echo "demo: run as root (or through sudo): the guests run under libvirtd's system instance" >&2
    exit 1
fi

run=$(mktemp -d "${TMPDIR:-/tmp}/kvmgrid-demo.XXXXXX")
chmod 711 "$run"   # libvirtd's QEMU must reach the rig's files below it
pids=""
rig_up=0
say() { printf 'demo: %s\n' "$*"; }
stop_all() {
    # A second Ctrl-C must not cut the teardown short and leave guests behind.
    trap '' INT TERM
    trap - EXIT
    say "stopping (guests and daemons take a few seconds) ..."
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    # "down" removes the rig's state directory: keep its daemons' and guests'
    # logs first, which a failure message may point to.
    if [ "${keep:-}" = 1 ] && [ -d "$run/rig" ]; then
        for f in "$run"/rig/*.log "$run"/rig/guests/*/console.log; do
            [ -f "$f" ] || continue
            g=${f#"$run/rig/"}
            cp "$f" "$run/rig-$(printf '%s' "$g" | tr '/' '-')" 2>/dev/null || true
        done
    fi
    if [ $rig_up -eq 1 ]; then "$top/tools/guest/rig.sh" down >>"$run/rig.log" 2>&1 || say "rig down failed: see $run/rig.log"; fi
    case "${keep:-}" in 1) say "logs kept in $run" ;; *) rm -rf "$run" ;; esac
    say "stopped; nothing left running."
}
trap stop_all EXIT
trap 'exit 0' INT TERM
spawn() { # spawn LOGNAME CMD...: background, PID recorded
    local log="$run/$1.log"; shift
    "$@" >>"$log" 2>&1 &
    pids="$pids $!"
}
port_open() { python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.5).close()' "$1" 2>/dev/null; }

# 1. The broker.
[ -n "$port" ] || port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
{ echo "listener $port 127.0.0.1"; grep -v '^[[:space:]]*listener' "$top/broker-config/dev.conf"; } > "$run/mosquitto.conf"
spawn mosquitto "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$run/mosquitto.conf"
for _ in $(seq 100); do port_open "$port" && break; sleep 0.1; done
port_open "$port" || { keep=1; say "mosquitto did not start: see $run/mosquitto.log"; exit 1; }
broker="tcp://127.0.0.1:$port"
say "private broker $broker (broker-config/dev.conf)"

# 2. The guests.
names=""
if [ $existing -eq 0 ]; then
    # KG_RIG_OWNER: if this script is killed outright (SIGKILL, no trap), the next rig's
    # "up" finds its owner gone and removes its guests, files and daemons.
    export KG_RIG_DIR="$run/rig" KG_GUEST_LOAD="$build/loadgen/kvmgrid-load" KG_RIG_OWNER=$$
    say "starting libvirtd if needed and building the guest image (first time: ~1 min) ..."
    rig_up=1
    "$top/tools/guest/rig.sh" up >>"$run/rig.log" 2>&1 || { keep=1; say "rig up failed: see $run/rig.log"; exit 1; }
    for i in $(seq "$guests"); do
        n="demo-vm$i"
        opts=(--port "$port" --mem 768)   # the shipped mem-fill holds 512 MiB
        [ "$i" -eq 1 ] && opts+=(--tap)   # one guest with a tap, so network figures show too
        "$top/tools/guest/rig.sh" boot "$n" "${opts[@]}" >>"$run/rig.log" 2>&1 || { keep=1; say "boot $n failed: see $run/rig.log"; exit 1; }
        names="$names $n"
    done
    say "booted:$names"
fi

# 3. The agent.
spawn agent "$build/agent/kvmgrid-agent" --libvirt-uri qemu:///system --broker "$broker" --interval 2s
say "agent on qemu:///system, every 2 s"

# The validation scenarios, in turn, to each guest once its load generator is up.
if [ -n "$names" ]; then
    # Whenever a guest's load generator reports idle, it gets the next scenario.
    feed() {
        local scen=(cpu-ramp mem-fill disk-burst mixed) k=0 n st
        # With no job running (TERM during mosquitto_sub), kill gets no PID and fails,
        # which set -e would turn into exit status 2.
        trap 'kill $(jobs -p) 2>/dev/null || true; exit 0' TERM
        while :; do
            for n in $names; do
                st=$(mosquitto_sub -h 127.0.0.1 -p "$port" -t "kvmgrid/$n/load/state" \
                         --retained-only -C 1 -W 2 2>/dev/null) || true
                case "$st" in
                *'"status":"idle"'*)
                    echo "$(date +%T) $n: scenario ${scen[$((k % 4))]}"
                    mosquitto_pub -h 127.0.0.1 -p "$port" -q 1 -t "kvmgrid/$n/load/cmd" \
                        -m "{\"schema\":1,\"cmd\":\"scenario\",\"scenario\":\"${scen[$((k % 4))]}\"}" || true
                    k=$((k + 1)) ;;
                esac
            done
            sleep 5 & wait $!
        done
    }
    spawn feeder feed
fi

# 4. The wall.
if [ $wall -eq 1 ]; then
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
        spawn wall "$build/viewer/kvmgrid-wall" --broker "$broker" --fullscreen
        say "wall open full screen (q quits the wall; Ctrl-C here stops everything)"
    else
        shot="$run/wall.png"
        shots() {
            trap 'kill $(jobs -p) 2>/dev/null || true; exit 0' TERM
            sleep 20 & wait $!   # let the first scenarios start
            while :; do
                SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0 \
                    "$build/viewer/kvmgrid-wall" --broker "$broker" --size 1920x1080 \
                    --screenshot "$shot.new" >/dev/null 2>&1 &
                wait $! || true
                [ -f "$shot.new" ] && mv -f "$shot.new" "$shot"
                sleep 30 & wait $!
            done
        }
        spawn shots shots
        say "no display: the wall is written headless to $shot every 30 s"
    fi
fi

cat <<MSG

  Watch every topic:   mosquitto_sub -h 127.0.0.1 -p $port -t 'kvmgrid/#' -v
  One VM's figures:    mosquitto_sub -h 127.0.0.1 -p $port -t 'kvmgrid/+/vm/demo-vm1' -v
  Send a load:         mosquitto_pub -h 127.0.0.1 -p $port -t 'kvmgrid/demo-vm1/load/cmd' \\
                         -m '{"schema":1,"cmd":"start","kind":"cpu","pct":90,"duration_s":60}'
  Stop that load:      mosquitto_pub -h 127.0.0.1 -p $port -t 'kvmgrid/demo-vm1/load/cmd' -m '{"schema":1,"cmd":"stop"}'
  Logs:                $run/*.log
  Stop everything:     Ctrl-C

MSG
wait

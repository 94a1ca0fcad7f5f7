#!/bin/sh
# SPDX-License-Identifier: MIT
# The main job on embedded defaults (called by `./run.sh demo` after the build):
# a private Mosquitto on a free loopback port with broker-config/dev.conf, then the
# agent and the wall when they are built. Prints how to watch and how to stop;
# Ctrl-C (or SIGTERM) stops everything it started, by PID.
#
#   tools/demo.sh [--build DIR] [--port N]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build"
port=""
while [ $# -gt 0 ]; do
    case "$1" in
    --build) build=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    -h|--help) sed -n '3,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown option '$1' (try --help)" >&2; exit 2 ;;
    esac
done

run=$(mktemp -d "${TMPDIR:-/tmp}/kvmgrid-demo.XXXXXX")
pids=""
stop_all() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    rm -rf "$run"
    echo "demo: stopped; nothing left running."
}
trap stop_all EXIT
trap 'exit 0' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
[ -n "$port" ] || port=$(free_port)
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
{ echo "listener $port 127.0.0.1"; grep -v '^[[:space:]]*listener' "$top/broker-config/dev.conf" 2>/dev/null \
    || printf 'allow_anonymous true\npersistence false\n'; } > "$run/mosquitto.conf"
"$mosquitto" -c "$run/mosquitto.conf" > "$run/mosquitto.log" 2>&1 &
pids="$pids $!"
i=0
until python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.5).close()' "$port" 2>/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: mosquitto did not start; see $run/mosquitto.log" >&2; exit 1; }
    sleep 0.1
done
broker="tcp://127.0.0.1:$port"
echo "demo: private broker $broker (broker-config/dev.conf), logs in $run"

cat <<MSG

  Watch every topic:     mosquitto_sub -h 127.0.0.1 -p $port -t 'kvmgrid/#' -v
  Send a load command:   mosquitto_pub -h 127.0.0.1 -p $port -t 'kvmgrid/NODE/load/cmd' \\
                           -m '{"schema":1,"cmd":"start","kind":"cpu","pct":60,"duration_s":60}'
  Stop everything:       Ctrl-C

MSG
wait

#!/bin/sh
# SPDX-License-Identifier: MIT
# The wall's end-to-end benchmark: a private mosquitto (max_queued_messages 200000,
# docs/PLATFORM.md) filled with HOSTS x VMS retained VM payloads by kg-wall-gridpub; then a
# headless wall connects: how long until it has applied the retained burst, and its
# peak RSS; then the publisher updates RATE VMs per second for SECONDS while the
# wall runs, and the wall reports its frame times. Then the in-process frame bench
# (1 % of tiles changing per frame at 1920x1080). Prints figures; never fails on time.
# Wall-clock figures move with whatever else runs on the machine: the script prints
# the load average and the CPU time the wall itself used next to them. Run it
# several times and quote min/median (docs/BENCHMARKS.md, "Wall").
#
#   bench/wall/run.sh [BUILD_DIR] [HOSTS 2000] [VMS 50] [RATE 6000] [SECONDS 10]
#
# SOURCE=summaries: the broker holds one summary per host instead (gridpub
# --summary) and the wall reads them (--source summaries); RATE is then hosts'
# summaries per second (a region of 20,000 hosts every 5 s: 4000), each
# changing all of its host's VMs. The frame bench runs the same way (one
# summary per host, CHANGE of the hosts per frame), at the wall's default
# tiles = auto (host tiles at 20,000 x 50). Besides wall-clock frame times the
# wall's --stats print its own CPU time per frame: the figures to quote on a
# shared machine.
set -u
SOURCE=${SOURCE:-vms}
KG_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
KG_BUILD_DIR=${1:-$KG_SOURCE_DIR/build}
HOSTS=${2:-2000} VMS=${3:-50} RATE=${4:-6000} SECS=${5:-10}
export KG_SOURCE_DIR KG_BUILD_DIR
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
export SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0

WALL=$(kg_bin kvmgrid-wall) GRIDPUB=$(kg_bin kg-wall-gridpub) FRAMES=$(kg_bin kg-bench-wall-frames)
# cpu_s PID: user + system CPU seconds of a process so far (all its threads)
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
echo "bench: load average at start $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs"
printf 'max_queued_messages 400000\nmax_inflight_messages 0\n' >"$KG_TMP/extra.conf"
kg_broker_start "$KG_TMP/extra.conf"
PUBFLAG=
[ "$SOURCE" = summaries ] && PUBFLAG=--summary
"$GRIDPUB" --broker "$KG_BROKER_URI" --hosts "$HOSTS" --vms "$VMS" $PUBFLAG 2>&1 | grep gridpub:
# The publisher's flush only means its messages left its socket: wait until the broker
# has stored the last one (one client's publishes are processed in order), so the wall
# below measures its own burst, not the broker still digesting the fill.
LAST_TOPIC=$(printf 'kvmgrid/hv%04d/vm/vm%03d' $((HOSTS - 1)) $((VMS - 1)))
[ "$SOURCE" = summaries ] && LAST_TOPIC=$(printf 'kvmgrid/hv%04d/summary' $((HOSTS - 1)))
kg_wait_for 120 kg_has_retained "$LAST_TOPIC" || kg_die "the broker never stored $LAST_TOPIC"

kg_spawn wall "$WALL" --broker "$KG_BROKER_URI" --size 1920x1080 --interval 1h --stats \
    --source "$SOURCE"
WALL_PID=$KG_LAST_PID
kg_wait_for 60 grep -q "retained state:" "$KG_TMP/wall.log" || kg_die "no retained state"
echo "wall: $(grep -o 'retained state:.*' "$KG_TMP/wall.log")"
echo "wall: peak RSS after the burst $(awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' /proc/$WALL_PID/status)"
echo "wall: CPU time after the burst (start, burst, 1 s settle; all threads) $(cpu_s "$WALL_PID") s"
cpu0=$(cpu_s "$WALL_PID")
[ "$RATE" -gt 0 ] && "$GRIDPUB" --broker "$KG_BROKER_URI" --hosts "$HOSTS" --vms "$VMS" --rate "$RATE" \
    --duration "$SECS" $PUBFLAG >/dev/null 2>&1
echo "wall: peak RSS after $SECS s of $RATE updates/s $(awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' /proc/$WALL_PID/status)"
echo "wall: CPU time during $SECS s of $RATE updates/s $(echo "$(cpu_s "$WALL_PID") $cpu0" | awk '{ printf "%.2f", $1 - $2 }') s"
kg_stop "$WALL_PID" TERM
echo "wall: $(grep '^frames' "$KG_TMP/wall.log")"
echo "wall: $(grep '^settled_frames' "$KG_TMP/wall.log")"
echo "wall: $(grep '^applied' "$KG_TMP/wall.log" | tail -n 1)"
if [ "$SOURCE" = summaries ]; then
    # RATE summaries a second at 60 frames a second
    "$FRAMES" "$HOSTS" "$VMS" 500 "$(awk -v r="$RATE" -v h="$HOSTS" 'BEGIN { c = r / 60 / h; print (c > 0 ? c : 0.001) }')" \
        1920x1080 summaries
else
    "$FRAMES" "$HOSTS" "$VMS" 500 0.01 1920x1080
fi

#!/bin/sh
# SPDX-License-Identifier: MIT
# The wall's end-to-end benchmark: a private mosquitto (max_queued_messages 200000,
# FACTS.md) filled with HOSTS x VMS retained VM payloads by kg-wall-gridpub; then a
# headless wall connects: how long until it has applied the retained burst, and its
# peak RSS; then the publisher updates RATE VMs per second for SECONDS while the
# wall runs, and the wall reports its frame times. Then the in-process frame bench
# (1 % of tiles changing per frame at 1920x1080). Prints figures; never fails on time.
#
#   bench/wall/run.sh [BUILD_DIR] [HOSTS 2000] [VMS 50] [RATE 6000] [SECONDS 10]
set -u
KG_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
KG_BUILD_DIR=${1:-$KG_SOURCE_DIR/build}
HOSTS=${2:-2000} VMS=${3:-50} RATE=${4:-6000} SECS=${5:-10}
export KG_SOURCE_DIR KG_BUILD_DIR
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
export SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0

WALL=$(kg_bin kvmgrid-wall) GRIDPUB=$(kg_bin kg-wall-gridpub) FRAMES=$(kg_bin kg-bench-wall-frames)
printf 'max_queued_messages 400000\nmax_inflight_messages 0\n' >"$KG_TMP/extra.conf"
kg_broker_start "$KG_TMP/extra.conf"
"$GRIDPUB" --broker "$KG_BROKER_URI" --hosts "$HOSTS" --vms "$VMS" 2>&1 | grep gridpub:

kg_spawn wall "$WALL" --broker "$KG_BROKER_URI" --size 1920x1080 --interval 1h --stats
WALL_PID=$KG_LAST_PID
kg_wait_for 60 grep -q "retained state:" "$KG_TMP/wall.log" || kg_die "no retained state"
echo "wall: $(grep -o 'retained state:.*' "$KG_TMP/wall.log")"
echo "wall: peak RSS after the burst $(awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' /proc/$WALL_PID/status)"
"$GRIDPUB" --broker "$KG_BROKER_URI" --hosts "$HOSTS" --vms "$VMS" --rate "$RATE" --duration "$SECS" >/dev/null 2>&1
echo "wall: peak RSS after $SECS s of $RATE updates/s $(awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' /proc/$WALL_PID/status)"
kg_stop "$WALL_PID" TERM
echo "wall: $(grep '^frames' "$KG_TMP/wall.log")"
echo "wall: $(grep '^applied' "$KG_TMP/wall.log" | tail -n 1)"
"$FRAMES" "$HOSTS" "$VMS" 500 0.01 1920x1080

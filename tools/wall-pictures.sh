#!/bin/sh
# SPDX-License-Identifier: MIT
# Makes the wall's pictures in docs/ with the wall's own --screenshot: a private
# mosquitto on a free loopback port, 60 hosts x 20 VMs from the grid publisher
# (figures along waves, so that trends move, and 5 VMs held over the CPU and memory
# alert lines), then headless walls (SDL offscreen, software rendering) that watch it
# long enough to hold a minute of trends:
#   docs/wall-60-hosts.png   the default view: all metrics per tile, alerts marked,
#                            the header's alert list, host trend lines
#   docs/wall-tooltip.png    a VM in alert with its tooltip: figures and sparklines
#   docs/wall-alerts-only.png  the `a` view: only the VMs in alert
# The walls keep 1 minute of trends in 1 s steps (the defaults are 15 minutes in 5 s
# steps, the agents' interval) and raise a CPU alert after 20 s (default 60 s), so
# that the pictures take two minutes to make, not twenty.
#
#   tools/wall-pictures.sh [BUILD_DIR] [OUT_DIR]     (defaults: build, docs)
set -u
KG_SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
KG_BUILD_DIR=${1:-$KG_SOURCE_DIR/build}
OUT=${2:-$KG_SOURCE_DIR/docs}
mkdir -p "$OUT" || exit 1
export KG_SOURCE_DIR KG_BUILD_DIR
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
export SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0
WALL=$(kg_bin kvmgrid-wall) GRIDPUB=$(kg_bin kg-wall-gridpub)

kg_broker_start
"$GRIDPUB" --broker "$KG_BROKER_URI" --hosts 60 --vms 20 >/dev/null 2>&1 || kg_die "grid publisher failed"
kg_spawn gridpub "$GRIDPUB" --broker "$KG_BROKER_URI" --hosts 60 --vms 20 --wave 90 --hot 5 \
    --duration 600
PUB_PID=$KG_LAST_PID

# shoot NAME SIZE ARGS...: a wall that draws FRAMES frames (about a minute at the
# 60 frames a second a changing grid gets: a minute of trends, the alerts raised),
# then saves OUT/NAME.png
FRAMES=${KG_PICTURE_FRAMES:-4200}
shoot() {
    _name=$1 _size=$2; shift 2
    "$WALL" --broker "$KG_BROKER_URI" --size "$_size" --history 1m --history-step 1s \
        --alert-cpu "90 for 20s clear 85" --frames "$FRAMES" --timeout 300s \
        --screenshot "$OUT/$_name.png" "$@" >>"$KG_TMP/wall.log" 2>&1 ||
        kg_die "$_name: the wall failed (log: $KG_TMP/wall.log)"
    kg_log "$OUT/$_name.png"
}
shoot wall-60-hosts 1920x1080 &
A=$!
shoot wall-tooltip 1280x720 --tooltip hv0002/vm002 &
B=$!
wait $A || kg_fail "wall-60-hosts"
wait $B || kg_fail "wall-tooltip"
shoot wall-alerts-only 1280x720 --alerts-only
kg_stop "$PUB_PID"

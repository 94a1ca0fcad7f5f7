#!/bin/sh
# SPDX-License-Identifier: MIT
# A region: a million VMs (docs/BENCHMARKS.md). HOSTS x VMS simulated VMs
# (kg-scale-pub) on SITES site brokers, each bridged to one centre broker with
# the shipped broker-config/bridge-summary.conf.in (rendered by render.sh; only
# its TLS and credential lines are left out: plain loopback, an anonymous
# centre), every host's status once and its summary every INTERVAL seconds,
# spread evenly over it; a headless wall (source = summaries) on the centre.
# Prints, next to the targets: the centre broker's CPU and message rates, the
# wall's retained burst, frame CPU p99 and peak RSS, and the time from a summary
# published at a site to the centre (a subscriber there) and to the wall's tile
# (--trace-tile on the probe VM). Never fails on time; fails on a broken run.
#
#   bench/scale/run.sh [BUILD_DIR] [HOSTS 20000] [VMS 50] [SECONDS 60]
#
# SECONDS is the measured window, after the fill has reached the centre; the
# wall starts at its beginning, so its burst is measured under the live load.
# Environment: SITES (4), INTERVAL (5, seconds), WALL_PREFIX (default
# "+/kvmgrid", every site, when this wall accepts a wildcard site level, else
# "site1/kvmgrid": one site, labelled as a stand-in), WALL_ARGS (more wall
# flags, e.g. "--history 0"), WALL_SIZE (1920x1080), NO_WALL=1 (brokers only),
# FLAT=1 (the bridges rendered with REMOTE_PREFIX=kvmgrid, OPERATIONS.md's "one
# wall over all sites": the centre's kvmgrid/ is the union of the sites, host
# names unique across them, and the wall reads all of it with prefix kvmgrid),
# KEEP=DIR (the logs and configurations are copied there at the end), SHOT=FILE.png
# (a picture of the wall over the region, taken after the window).
set -u
KG_SOURCE_DIR=${KG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KG_BUILD_DIR=${1:-$KG_SOURCE_DIR/build}
HOSTS=${2:-20000} VMS=${3:-50} SECS=${4:-60}
SITES=${SITES:-4} INTERVAL=${INTERVAL:-5} WALL_SIZE=${WALL_SIZE:-1920x1080}
WALL_ARGS=${WALL_ARGS:-} NO_WALL=${NO_WALL:-0} KEEP=${KEEP:-} FLAT=${FLAT:-0} SHOT=${SHOT:-}
export KG_SOURCE_DIR KG_BUILD_DIR
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
export SDL_VIDEODRIVER=offscreen SDL_RENDER_DRIVER=software SDL_FRAMEBUFFER_ACCELERATION=0

PUB=$(kg_bin kg-scale-pub)
[ "$NO_WALL" = 1 ] || WALL=$(kg_bin kvmgrid-wall)
CFG="$KG_SOURCE_DIR/broker-config"
PER_SITE=$((HOSTS / SITES))
[ "$PER_SITE" -ge 1 ] || kg_die "fewer hosts ($HOSTS) than sites ($SITES)"
HZ=$(getconf CLK_TCK)
# cpu_ticks PID: user + system clock ticks of a process so far (all its threads)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# pct TICKS0 TICKS1 SECONDS: % of one core
pct() { awk -v a="$1" -v b="$2" -v s="$3" -v hz="$HZ" 'BEGIN { printf "%.1f", (b - a) / hz / s * 100 }'; }
mono() { awk '{ print $1 }' /proc/uptime; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
hwm() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
host_name() { printf 'hv%05d' "$1"; }
# at_centre N: site N's prefix at the centre; CENTRE_ALL: a filter level for all sites
if [ "$FLAT" = 1 ]; then at_centre() { echo kvmgrid; }; CENTRE_ALL=kvmgrid
else at_centre() { echo "site$1/kvmgrid"; }; CENTRE_ALL='+/kvmgrid'; fi

echo "scale: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $("$MOSQUITTO" -h 2>/dev/null | head -n 1)"
echo "scale: $HOSTS hosts x $VMS VMs = $((HOSTS * VMS)) VMs on $SITES sites ($PER_SITE hosts each), summaries every $INTERVAL s, window $SECS s"
echo "scale: load average at start $(load)"

# --- the ports: one python for all of them (a python start costs up to a second
# on a loaded machine), distinct, free on 127.0.0.1 right now
ports() { # N: N distinct free ports / ports_open PORT...: waits up to 10 s for each
    python3 -c 'import socket,sys
ss=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1",0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}
ports_open() {
    python3 -c 'import socket,sys,time
end=time.time()+10
for p in sys.argv[1:]:
    while True:
        try: socket.create_connection(("127.0.0.1",int(p)),0.5).close(); break
        except OSError:
            if time.time()>end: sys.exit(1)
            time.sleep(0.05)' "$@"
}
# shellcheck disable=SC2046 # a list of ports
set -- $(ports $((SITES + 1)))
CPORT=$1; shift
SITE_PORTS="$*"

# --- the centre: dev.conf; $SYS every second for the message rates
{
    echo "listener $CPORT 127.0.0.1"
    grep -v '^[[:space:]]*listener' "$CFG/dev.conf"
    echo "sys_interval 1"
} >"$KG_TMP/centre.conf"
kg_spawn centre "$MOSQUITTO" -c "$KG_TMP/centre.conf"
CENTRE_PID=$KG_LAST_PID
ports_open "$CPORT" || kg_die "the centre did not start"

# --- the sites: dev.conf plus the shipped summary bridge, rendered, to the centre
echo unused >"$KG_TMP/bridge.pass"
SITE_URIS="" n=0
for p in $SITE_PORTS; do
    n=$((n + 1))
    SITE=site$n PREFIX=kvmgrid REMOTE_PREFIX=$(at_centre $n) CENTRE_ADDRESS="127.0.0.1:$CPORT" \
        BRIDGE_PASSWORD_FILE="$KG_TMP/bridge.pass" BRIDGE_CAFILE=/nonexistent \
        "$CFG/render.sh" "$CFG/bridge-summary.conf.in" >"$KG_TMP/site$n.bridge" ||
        kg_die "render.sh bridge-summary.conf.in failed"
    {
        echo "listener $p 127.0.0.1"
        grep -v '^[[:space:]]*listener' "$CFG/dev.conf"
        # plain loopback to an anonymous centre: the template's TLS and credentials go
        grep -Ev '^(bridge_cafile|bridge_insecure|bridge_tls_version|remote_username|remote_password) ' \
            "$KG_TMP/site$n.bridge"
    } >"$KG_TMP/site$n.conf"
    kg_spawn "site$n" "$MOSQUITTO" -c "$KG_TMP/site$n.conf"
    eval "SITE${n}_PID=$KG_LAST_PID"
    SITE_URIS="$SITE_URIS --site tcp://127.0.0.1:$p"
done
# shellcheck disable=SC2086
ports_open $SITE_PORTS || kg_die "a site broker did not start"
links_up() { [ "$(grep -c 'New bridge connected' "$KG_TMP/centre.log")" -ge "$SITES" ]; }
kg_wait_for 30 links_up || kg_die "not every site's bridge came up"
echo "scale: centre on 127.0.0.1:$CPORT, $SITES site brokers bridged (bridge-summary.conf.in: +/status and +/summary out, QoS 1)"

# --- a subscriber at the centre stamps every arrival of the probe host's summary
PROBE_TOPIC="$(at_centre 1)/$(host_name 0)/summary"
"$MOSQUITTO_SUB" -h 127.0.0.1 -p "$CPORT" -t "$PROBE_TOPIC" -F '%U' >"$KG_TMP/probe-centre.out" 2>/dev/null &
KG_PIDS="$KG_PIDS $!"

# --- the publisher: the fill, then rounds until it is stopped
kg_spawn pub "$PUB" $SITE_URIS --hosts "$HOSTS" --vms "$VMS" --interval "$INTERVAL" --duration 86400
PUB_PID=$KG_LAST_PID
kg_wait_for 600 grep -q 'scale-pub: fill' "$KG_TMP/pub.log" || kg_die "the publisher's fill did not end"
grep -o 'scale-pub: fill.*' "$KG_TMP/pub.log"
t_fill=$(mono)
filled() { # every site's last host has a summary at the centre (each bridge forwards in order)
    for n in $(seq 1 "$SITES"); do
        centre_has "$(at_centre $n)/$(host_name $((n * PER_SITE - 1)))/summary" || return 1
    done
}
centre_has() { [ -n "$(kg_sub_retained "$CPORT" "$1" 2 -C 1 -F '%t')" ]; }
kg_wait_for 600 filled || kg_die "the fill never reached the centre"
echo "scale: the fill's last summaries at the centre $(awk -v a="$t_fill" -v b="$(mono)" 'BEGIN { printf "%.1f", b - a }') s after the publisher's flush"

# --- the window
# sys_counters: the centre's "packets received, publishes sent, bytes received, bytes
# sent, publishes dropped, publishes received" ($SYS, every second).
sys_counters() {
    "$MOSQUITTO_SUB" -h 127.0.0.1 -p "$CPORT" -C 6 -W 5 -v -t '$SYS/broker/publish/messages/received' \
        -t '$SYS/broker/messages/received' -t '$SYS/broker/publish/messages/sent' \
        -t '$SYS/broker/bytes/received' -t '$SYS/broker/bytes/sent' \
        -t '$SYS/broker/publish/messages/dropped' 2>/dev/null |
        awk '{ v[$1] = $2 } END { print v["$SYS/broker/messages/received"] + 0,
             v["$SYS/broker/publish/messages/sent"] + 0, v["$SYS/broker/bytes/received"] + 0,
             v["$SYS/broker/bytes/sent"] + 0, v["$SYS/broker/publish/messages/dropped"] + 0,
             v["$SYS/broker/publish/messages/received"] + 0 }'
}
L0=$(load); echo "scale: load average at the window's start $L0"
c0=$(cpu_ticks "$CENTRE_PID"); p0=$(cpu_ticks "$PUB_PID")
s0=""; for n in $(seq 1 "$SITES"); do eval "s0=\"\$s0 \$(cpu_ticks \$SITE${n}_PID)\""; done
sys0=$(sys_counters); t0=$(mono); t0_real_ms=$(($(date +%s%N) / 1000000))

WALL_PID=""
if [ "$NO_WALL" != 1 ]; then
    if [ -z "${WALL_PREFIX:-}" ]; then
        if [ "$FLAT" = 1 ]; then WALL_PREFIX=kvmgrid
        elif "$WALL" --check --prefix '+/kvmgrid' >/dev/null 2>&1; then WALL_PREFIX='+/kvmgrid'
        else WALL_PREFIX=site1/kvmgrid; fi
    fi
    case "$WALL_PREFIX" in
        +/*|"$CENTRE_ALL") WALL_VMS=$((SITES * PER_SITE * VMS)); WALL_WHAT="every site" ;;
        *) WALL_VMS=$((PER_SITE * VMS))
           WALL_WHAT="ONE SITE ONLY, a stand-in for the region" ;;
    esac
    echo "scale: wall on the centre, prefix $WALL_PREFIX ($WALL_WHAT: $WALL_VMS VMs), $WALL_SIZE ${WALL_ARGS:+$WALL_ARGS}"
    # shellcheck disable=SC2086 # WALL_ARGS is a list of flags
    kg_spawn wall "$WALL" --broker "tcp://127.0.0.1:$CPORT" --prefix "$WALL_PREFIX" \
        --source summaries --interval "${INTERVAL}s" --size "$WALL_SIZE" --stats \
        --trace-tile probe $WALL_ARGS
    WALL_PID=$KG_LAST_PID
    kg_wait_for 300 grep -q "retained state:" "$KG_TMP/wall.log" || kg_die "the wall never settled"
    settled_real_ms=$(($(date +%s%N) / 1000000)); w_settled=$(mono); w_cpu_settled=$(cpu_ticks "$WALL_PID")
    echo "wall: $(grep -o 'retained state:.*' "$KG_TMP/wall.log") (load average $(load))"
    echo "wall: peak RSS after the burst $(hwm "$WALL_PID") MiB, CPU $(pct 0 "$(cpu_ticks "$WALL_PID")" 1 | awk '{ printf "%.2f", $1 / 100 }') s since its start"
fi
left=$(awk -v a="$t0" -v b="$(mono)" -v s="$SECS" 'BEGIN { d = s - (b - a); print (d > 0 ? d : 0) }')
half=$(awk -v l="$left" 'BEGIN { print l / 2 }')
sleep "$half"; L1=$(load); echo "scale: load average mid-window $L1"
sleep "$half"
t1=$(mono); sys1=$(sys_counters); centre_hwm=$(hwm "$CENTRE_PID")
c1=$(cpu_ticks "$CENTRE_PID"); p1=$(cpu_ticks "$PUB_PID")
s1=""; for n in $(seq 1 "$SITES"); do eval "s1=\"\$s1 \$(cpu_ticks \$SITE${n}_PID)\""; done
L2=$(load); echo "scale: load average at the window's end $L2"
win=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
if [ -n "$WALL_PID" ]; then
    wall_hwm=$(hwm "$WALL_PID")
    w_cpu_end=$(cpu_ticks "$WALL_PID")
    wall_cpu=$(pct 0 "$w_cpu_end" 1 | awk '{ printf "%.2f", $1 / 100 }')
    wall_live=$(pct "$w_cpu_settled" "$w_cpu_end" "$(awk -v a="$w_settled" -v b="$(mono)" 'BEGIN { print b - a }')")
    kg_stop "$WALL_PID" TERM
    echo "wall: $(grep '^frames' "$KG_TMP/wall.log")"
    echo "wall: $(grep '^applied' "$KG_TMP/wall.log" | tail -n 1)"
fi
# SHOT=FILE.png: a second wall on the centre takes a picture of the region (after
# the window's figures, so it costs them nothing), with its layout dump beside it.
if [ -n "$SHOT" ]; then
    # shellcheck disable=SC2086 # WALL_ARGS is a list of flags
    "$WALL" --broker "tcp://127.0.0.1:$CPORT" --prefix "$WALL_PREFIX" --source summaries \
        --interval "${INTERVAL}s" --size "$WALL_SIZE" --timeout 120s --screenshot "$SHOT" \
        --dump-layout "${SHOT%.png}.txt" $WALL_ARGS >"$KG_TMP/shot.log" 2>&1 &&
        echo "scale: the region's picture in $SHOT" ||
        echo "scale: the picture failed: $(tail -n 2 "$KG_TMP/shot.log")"
fi
kg_stop "$PUB_PID" TERM
grep -o 'scale-pub: rounds.*' "$KG_TMP/pub.log"

# --- what the centre holds at the end
# (-C: done as soon as all are there; -W: at most that long when some are not)
n_sum=$(kg_sub_retained "$CPORT" "$CENTRE_ALL/+/summary" 20 -C $((SITES * PER_SITE)) -F '%t' | wc -l)
n_st=$(kg_sub_retained "$CPORT" "$CENTRE_ALL/+/status" 20 -C $((SITES * PER_SITE)) -F '%t' | wc -l)
echo "scale: the centre holds $n_sum summaries and $n_st statuses (expected $((SITES * PER_SITE)) each)"

# --- latencies: each probe summary published -> its arrival at the centre's
# subscriber, and -> the wall's probe tile changing colour (its next trace line)
grep '^probe ' "$KG_TMP/pub.log" | awk -v t0="$t0_real_ms" '$NF >= t0 { print $NF }' >"$KG_TMP/probe-pub.ms"
awk '{ printf "%.0f\n", $1 * 1000 }' "$KG_TMP/probe-centre.out" >"$KG_TMP/probe-centre.ms"
# the wall's: only probes published once it had settled (its burst is a figure of its own)
[ -n "$WALL_PID" ] && grep '^trace-tile probe colour' "$KG_TMP/wall.log" | awk '{ print $NF }' >"$KG_TMP/probe-wall.ms"
[ -n "$WALL_PID" ] && awk -v t="$settled_real_ms" '$1 >= t' "$KG_TMP/probe-pub.ms" >"$KG_TMP/probe-pub-settled.ms"
# lat PUBLISHED ARRIVED: for each publish, the first arrival at or after it (within
# two intervals): "n median max" in ms, or "0 - -"
lat() {
    awk -v lim=$((2 * INTERVAL * 1000)) 'NR == FNR { a[na++] = $1; next }
        { while (i < na && a[i] < $1) i++; if (i < na && a[i] - $1 <= lim) d[nd++] = a[i] - $1 }
        END { if (nd == 0) { print "0 - -"; exit }
              for (x = 0; x < nd; x++) for (y = x + 1; y < nd; y++) if (d[y] < d[x]) { t = d[x]; d[x] = d[y]; d[y] = t }
              print nd, d[int(nd / 2)], d[nd - 1] }' "$2" "$1"
}
lat_centre=$(lat "$KG_TMP/probe-pub.ms" "$KG_TMP/probe-centre.ms")
lat_wall="0 - -"
[ -s "$KG_TMP/probe-wall.ms" ] && lat_wall=$(lat "$KG_TMP/probe-pub-settled.ms" "$KG_TMP/probe-wall.ms")

# --- the table
set -- $sys0; r0=$1 o0=$2 br0=$3 bs0=$4 d0=$5 i0=$6
set -- $sys1; r1=$1 o1=$2 br1=$3 bs1=$4 d1=$5 i1=$6
rate() { awk -v a="$1" -v b="$2" -v s="$win" 'BEGIN { printf "%.0f", (b - a) / s }'; }
mbps() { awk -v a="$1" -v b="$2" -v s="$win" 'BEGIN { printf "%.1f", (b - a) / s / 1e6 }'; }
sites_cpu=$(i=0; for a in $s0; do i=$((i + 1)); set -- $s1; eval "b=\${$i}"; printf '%s ' "$(pct "$a" "$b" "$win")"; done)
echo
echo "| figure ($HOSTS x $VMS, $SITES sites, interval $INTERVAL s, window $win s) | measured | target |"
echo "|---|---:|---|"
echo "| centre broker CPU, % of one core | $(pct "$c0" "$c1" "$win") | < 50 |"
echo "| centre broker peak RSS (VmHWM), MiB | $centre_hwm | |"
echo "| centre publishes in / out per s (\$SYS; offered: $((SITES * PER_SITE / INTERVAL)) summaries/s) | $(rate "$i0" "$i1") / $(rate "$o0" "$o1") | |"
echo "| centre packets in per s (\$SYS messages/received: publishes and acknowledgements) | $(rate "$r0" "$r1") | |"
echo "| centre publishes dropped in the window (\$SYS) | $((d1 - d0)) | 0 |"
echo "| centre MB/s in / out (\$SYS) | $(mbps "$br0" "$br1") / $(mbps "$bs0" "$bs1") | |"
echo "| site brokers CPU, % of one core each | $sites_cpu| |"
echo "| publisher CPU, % of one core | $(pct "$p0" "$p1" "$win") | |"
set -- $lat_centre
echo "| site -> centre subscriber, ms: median / max ($1 probes) | $2 / $3 | |"
if [ -n "$WALL_PID" ]; then
    # the burst: the last retained message applied, from the counters at exit (the
    # settle line can come early: a pause in a slow burst reads as its end), with
    # how many of the retained messages arrived
    settle=$(grep -o 'last [0-9]* ms after' "$KG_TMP/wall.log" | head -n 1 | awk '{ printf "%.2f", $2 / 1000 }')
    burst=$(grep '^applied' "$KG_TMP/wall.log" | tail -n 1 | awk -v want=$((2 * WALL_VMS / VMS)) '{
        for (i = 1; i < NF; i++) { if ($i == "retained") r = $(i + 1); if ($i == "last_retained_after_connect_ms") ms = $(i + 1) }
        printf "%.2f (%d of %d retained; settle line %s)", ms / 1000, r, want, "'"$settle"'" }')
    fr=$(grep '^frames' "$KG_TMP/wall.log")
    val() { printf '%s\n' "$fr" | awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
    # what the centre had for the wall: the retained status and summary of each host
    # it covers, and their share of the summaries the centre received in the window
    w_offered=$(awk -v h=$((WALL_VMS / VMS)) -v n=$((SITES * PER_SITE)) -v a="$r0" -v b="$r1" \
        'BEGIN { printf "%.0f", 2 * h + (b - a) * h / n }')
    set -- $lat_wall
    echo "| wall ($WALL_PREFIX, $WALL_VMS VMs): retained burst applied, s | $burst | < 3 |"
    echo "| wall: frame CPU median / p99, ms ($(val frames) frames, $(val layouts) layouts) | $(val frame_cpu_ms_median) / $(val frame_cpu_ms_p99) | p99 < 8 |"
    echo "| wall: frame wall-clock median / p99, ms | $(val frame_ms_median) / $(val frame_ms_p99) | |"
    echo "| wall: peak RSS (VmHWM), MiB | $wall_hwm | < 500 |"
    echo "| wall: messages applied while it ran / about what the centre had for it (retained + live in the window) | $(grep '^applied' "$KG_TMP/wall.log" | awk '{ print $2 }') / $w_offered | |"
    echo "| wall: CPU from start to window end, s | $wall_cpu | |"
    echo "| wall: CPU once settled, % of one core (all threads: the live summaries) | $wall_live | |"
    echo "| site -> wall tile repainted, ms: median / max ($1 probes after the burst) | $2 / $3 | < $((INTERVAL * 1000 + 1000)) |"
fi
echo "| load average (1, 5, 15 min) at start / mid / end of window | $L0 / $L1 / $L2 | |"
echo

[ -z "${KEEP:-}" ] || { mkdir -p "$KEEP" && cp -r "$KG_TMP"/. "$KEEP"/; }
# --- stop everything by PID
for n in $(seq 1 "$SITES"); do eval "kg_stop \$SITE${n}_PID"; done
kg_stop "$CENTRE_PID"
[ "$n_sum" -eq $((SITES * PER_SITE)) ] || kg_die "the centre holds $n_sum summaries, not $((SITES * PER_SITE))"

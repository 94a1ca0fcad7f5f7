#!/bin/sh
# SPDX-License-Identifier: MIT
# Accuracy of kvmgrid-load, measured from outside the program through /proc:
#   CPU   utime+stime of the process over the steady part of the run, per worker,
#         against the requested duty cycle;
#   mem   RssAnon of the process once filled, minus that of an idle run, against
#         the requested MiB;
#   disk  write_bytes / read_bytes of /proc/PID/io (bytes sent to the block
#         layer) over the steady part, against the requested MB/s.
# Usage: bench_loadgen.sh [path/to/kvmgrid-load]
#   env: SECONDS_PER_RUN=10, DIR=/var/tmp, ONLY=cpu|mem|disk (one part only),
#        NICE=-10 (run the measured processes at that nice level: on a shared
#        machine this approximates the idle machine the targets are set for)
# Prints a table; never fails on the figures.
set -u
LOAD=${1:-$(dirname "$0")/../../build/loadgen/kvmgrid-load}
T=${SECONDS_PER_RUN:-10}
HZ=$(getconf CLK_TCK)
DIR=$(mktemp -d "${DIR:-/var/tmp}/kg-bench-load.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
if [ -n "${NICE:-}" ]; then
    # With autogroup scheduling a nice level only counts inside its session:
    # run in a session of our own and set that group's nice level too.
    if [ -z "${KG_BENCH_SESSION:-}" ] && [ -w /proc/self/autogroup ]; then
        rm -rf "$DIR"
        KG_BENCH_SESSION=1 exec setsid --wait sh "$0" "$@"
    fi
    echo "$NICE" > /proc/self/autogroup 2>/dev/null || true
fi
# Every measured process runs under nice -n "${NICE:-0}" (0: as this shell); nice
# execs it, so $! is that process's PID.

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
now() { date +%s.%N; }
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
io() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/io"; }

echo "kvmgrid-load accuracy, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo "runs of ${T}s; steady window from 1 s to $((T - 1)) s of each run${NICE:+; measured processes at nice $NICE}"
want() { [ -z "${ONLY:-}" ] || [ "$ONLY" = "$1" ]; }

if want cpu; then
echo
printf '%-26s %12s %12s %10s\n' "CPU (per worker)" "requested %" "achieved %" "diff pts"
# the ceiling: what a plain busy loop gets on this machine right now
nice -n "${NICE:-0}" sh -c 'while :; do :; done' &
pid=$!
sleep 1; t0=$(ticks $pid); s0=$(now); sleep $((T - 2)); t1=$(ticks $pid); s1=$(now)
kill $pid; wait $pid 2>/dev/null
awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v hz="$HZ" 'BEGIN {
    printf "%-26s %12s %12.1f %10s\n", "(plain busy loop)", "100", (b - a) / hz / (e - s) * 100, "ceiling" }'
for spec in "1 10" "1 25" "1 50" "1 75" "1 90" "1 100" "2 50"; do
    set -- $spec
    nice -n "${NICE:-0}" "$LOAD" cpu --workers "$1" --pct "$2" --for "${T}s" --log-level warn >/dev/null &
    pid=$!
    sleep 1
    t0=$(ticks $pid); s0=$(now)
    sleep $((T - 2))
    t1=$(ticks $pid); s1=$(now)
    wait $pid
    awk -v a="$t0" -v b="$t1" -v s="$s0" -v e="$s1" -v hz="$HZ" -v w="$1" -v p="$2" \
        -v label="$1 worker(s) at $2 %" 'BEGIN {
        got = (b - a) / hz / (e - s) / w * 100
        printf "%-26s %12.1f %12.1f %+10.1f\n", label, p, got, got - p }'
done
echo "(load average after the CPU runs: $(cut -d' ' -f1-3 /proc/loadavg))"
fi

if want mem; then
echo

"$LOAD" cpu --workers 1 --pct 0 --for 3s --log-level warn >/dev/null &
pid=$!; sleep 1.5; base=$(status_kib $pid RssAnon); wait $pid
printf '%-26s %12s %12s %10s   (idle RssAnon %s KiB subtracted)\n' "Memory" "requested MiB" "resident MiB" "diff %" "$base"
for mib in 64 256 512; do
    "$LOAD" mem --mib "$mib" --for 6s --log-level warn >/dev/null &
    pid=$!
    sleep 4
    kib=$(status_kib $pid RssAnon)
    wait $pid
    awk -v k="$kib" -v b="$base" -v m="$mib" 'BEGIN {
        got = (k - b) / 1024
        printf "%-26s %12d %12.1f %+10.2f\n", m " MiB", m, got, (got - m) / m * 100 }'
done
fi

if want disk; then
echo

printf '%-26s %12s %12s %10s\n' "Disk (dir $(df --output=source "$DIR" | tail -1))" "requested MB/s" "achieved MB/s" "diff %"
for spec in "write 5 1024" "write 20 1024" "write 50 1024" "write 20 1024 --direct" "read 20 1024" "read 20 1024 --direct" "write 20 64"; do
    set -- $spec
    mode=$1 rate=$2 blk=$3; shift 3
    key=write_bytes; [ "$mode" = read ] && key=read_bytes
    nice -n "${NICE:-0}" "$LOAD" disk --mode "$mode" --mb-per-s "$rate" --block-kib "$blk" "$@" --dir "$DIR" \
        --max-disk-bytes 2G --for "${T}s" --log-level warn >/dev/null &
    pid=$!
    sleep 1
    b0=$(io $pid $key); s0=$(now)
    sleep $((T - 2))
    b1=$(io $pid $key); s1=$(now)
    wait $pid
    left=$(find "$DIR" -type f | wc -l)
    awk -v a="$b0" -v b="$b1" -v s="$s0" -v e="$s1" -v r="$rate" -v left="$left" \
        -v label="$mode ${blk}KiB $*" 'BEGIN {
        got = (b - a) / 1e6 / (e - s)
        printf "%-26s %12.1f %12.2f %+10.1f%s\n", label, r, got, (got - r) / r * 100,
               left ? "   (FILE LEFT BEHIND)" : "" }'
done
fi

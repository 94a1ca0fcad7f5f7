#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs bench/wall/run.sh RUNS times and prints each figure's min / median / max over
# the runs, next to the load average seen at each start: on a shared machine a single
# run's wall-clock figures say more about the neighbours than about the wall.
#
#   bench/wall/repeat.sh [RUNS 5] [BUILD_DIR] [HOSTS 2000] [VMS 50] [RATE 6000] [SECONDS 10]
set -u
RUNS=${1:-5}
[ $# -gt 0 ] && shift
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mktemp "${TMPDIR:-/tmp}/kg-wall-repeat.XXXXXX")
trap 'rm -f "$OUT"' EXIT
i=0
while [ "$i" -lt "$RUNS" ]; do
    i=$((i + 1))
    echo "run $i/$RUNS" >&2
    sh "$HERE/run.sh" "$@" >"$OUT.run" 2>&1 || { cat "$OUT.run" >&2; exit 1; }
    awk -v run="$i" '
        /^bench: load average/ { print run, "load_average_1min", $6 + 0 }
        /^wall: retained state:/ { for (j = 1; j <= NF; j++) if ($j == "last") print run, "burst_applied_ms", $(j + 1) }
        /^wall: peak RSS after the burst/ { print run, "rss_after_burst_mib", $(NF - 1) }
        /^wall: CPU time after the burst/ { print run, "wall_cpu_start_and_burst_s", $(NF - 1) }
        /^wall: peak RSS after .* updates/ { print run, "rss_after_updates_mib", $(NF - 1) }
        /^wall: CPU time during/ { print run, "wall_cpu_during_updates_s", $(NF - 1) }
        /^wall: frames / { for (j = 1; j < NF; j++) if ($j ~ /^frame_/) print run, "running_wall_" $j, $(j + 1) }
        /model_apply of the retained burst/ { print run, "bench_model_apply_burst_ms", $(NF - 6) }
        /first frame \(layout/ { print run, "bench_first_frame_ms", $(NF - 1) }
        /tiles changed per frame/ { print run, "bench_frame_ms_median", $(NF - 7) + 0; print run, "bench_frame_ms_p99", $(NF - 4) + 0 }
        /CPU time per frame/ { print run, "bench_frame_cpu_ms_median", $(NF - 4) + 0; print run, "bench_frame_cpu_ms_p99", $(NF - 1) + 0 }
    ' "$OUT.run" >>"$OUT"
    rm -f "$OUT.run"
done
printf '%-36s %10s %10s %10s   each run, in order (%d runs)\n' figure min median max "$RUNS"
for fig in $(awk '{ print $2 }' "$OUT" | awk '!seen[$0]++'); do
    runs=$(awk -v f="$fig" '$2 == f { printf "%s ", $3 }' "$OUT")
    awk -v f="$fig" '$2 == f { print $3 }' "$OUT" | sort -g | awk -v f="$fig" -v runs="$runs" '
        { v[NR] = $1 }
        END { printf "%-36s %10s %10s %10s   %s\n", f, v[1], v[int((NR + 1) / 2)], v[NR], runs }'
done

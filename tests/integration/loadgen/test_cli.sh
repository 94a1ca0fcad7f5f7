#!/bin/sh
# SPDX-License-Identifier: MIT
# kvmgrid-load on the command line: exit statuses (0 ok, 2 usage/config,
# 3 over a cap), file:line for bad scenario files and config, a short run of
# each kind with its summary, and SIGTERM during a disk load leaving nothing.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

LOAD=$(kg_bin kvmgrid-load)
DISK=$KG_TMP/disk
mkdir -p "$DISK"

expect_status() { # WHAT STATUS CMD...
    _what=$1; _want=$2; shift 2
    "$@" >"$KG_TMP/out.txt" 2>&1; _got=$?
    kg_assert_eq "$_what (exit $_want)" "$_want" "$_got"
}

expect_status "--help" 0 "$LOAD" --help
kg_assert_contains "help lists caps" "$(cat "$KG_TMP/out.txt")" "--max-mib"
expect_status "--version" 0 "$LOAD" --version
expect_status "no command" 2 "$LOAD"
expect_status "unknown command" 2 "$LOAD" dance
expect_status "unknown option" 2 "$LOAD" cpu --pct 5 --bogus 1
expect_status "cpu without --pct" 2 "$LOAD" cpu --for 1s
expect_status "bad number" 2 "$LOAD" cpu --pct nan --for 1s
expect_status "bad duration" 2 "$LOAD" cpu --pct 5 --for soon
expect_status "negative pct" 2 "$LOAD" cpu --pct -5 --for 1s
expect_status "over max_pct" 3 "$LOAD" cpu --pct 60 --max-pct 50 --for 1s
kg_assert_contains "cap named" "$(cat "$KG_TMP/out.txt")" "max_pct"
expect_status "over max_mib" 3 "$LOAD" mem --mib 2048 --for 1s
expect_status "disk without a dir" 3 "$LOAD" disk --for 1s
expect_status "over max_duration" 3 "$LOAD" cpu --pct 5 --for 2h

printf 'max_mib = 64\nbogus_key = 1\n' >"$KG_TMP/bad.conf"
expect_status "bad config key" 2 "$LOAD" --config "$KG_TMP/bad.conf" mem --mib 8 --for 1s
kg_assert_contains "config file:line" "$(cat "$KG_TMP/out.txt")" "bad.conf:2"
printf 'max_mib = 64\nmax_workers = 2\nmax_mib = 128\n' >"$KG_TMP/dup.conf"
expect_status "duplicate config key" 2 "$LOAD" --config "$KG_TMP/dup.conf" mem --mib 8 --for 1s
kg_assert_contains "duplicate named with both lines" "$(cat "$KG_TMP/out.txt")" "dup.conf:3: 'max_mib' is already set on line 1"
printf 'max_mib = 64\n' >"$KG_TMP/good.conf"
expect_status "config cap applies" 3 "$LOAD" --config "$KG_TMP/good.conf" mem --mib 65 --for 1s
expect_status "flag overrides config" 0 "$LOAD" --config "$KG_TMP/good.conf" --max-mib 128 mem --mib 65 --for 200ms
expect_status "example config parses" 0 "$LOAD" --config "$KG_SOURCE_DIR/loadgen/kvmgrid-load.conf.example" check cpu-ramp
printf 'default_duration = 2h\n' >"$KG_TMP/incoherent.conf"
expect_status "default above max" 2 "$LOAD" --config "$KG_TMP/incoherent.conf" cpu --pct 5

# scenario files: file:line before anything runs
printf '{\n  "steps": [\n    {"loads": [{"kind": "cpu", "pct": "high"}]}\n  ]\n}\n' >"$KG_TMP/bad.json"
expect_status "malformed scenario" 2 "$LOAD" run "$KG_TMP/bad.json"
kg_assert_contains "scenario file:line" "$(cat "$KG_TMP/out.txt")" "bad.json:3: steps[0].loads[0].pct: must be a number"
printf '{"steps": [\n{"loads": [{"kind": "mem", "mib": 999999}]}]}' >"$KG_TMP/huge.json"
expect_status "scenario over a cap" 3 "$LOAD" run "$KG_TMP/huge.json"
kg_assert_contains "scenario cap file:line" "$(cat "$KG_TMP/out.txt")" "huge.json:2:"
expect_status "missing scenario" 2 "$LOAD" run no-such-scenario
expect_status "shipped scenarios check" 0 "$LOAD" check cpu-ramp
expect_status "mixed needs a disk dir" 3 "$LOAD" check mixed
expect_status "mixed with a disk dir" 0 "$LOAD" check mixed --dir "$DISK"
expect_status "list" 0 "$LOAD" list
for n in cpu-ramp mem-fill disk-burst mixed; do
    kg_assert_contains "list has $n" "$(cat "$KG_TMP/out.txt")" "$n"
done

# short runs of each kind print requested vs achieved
expect_status "cpu run" 0 "$LOAD" cpu --workers 1 --pct 40 --for 1s
kg_assert_contains "cpu summary" "$(cat "$KG_TMP/out.txt")" "requested 40.0 %"
expect_status "mem run" 0 "$LOAD" mem --mib 32 --for 1s
kg_assert_contains "mem summary" "$(cat "$KG_TMP/out.txt")" "resident 32.0 MiB"
expect_status "disk run" 0 "$LOAD" disk --mb-per-s 5 --block-kib 256 --dir "$DISK" --for 1s
kg_assert_contains "disk summary" "$(cat "$KG_TMP/out.txt")" "disk: wrote"
kg_assert_eq "no file after a disk run" 0 "$(find "$DISK" -type f | wc -l)"
printf '{"steps":[{"loads":[{"kind":"cpu","workers":1,"pct":10,"duration_s":0.5}]},{"duration_s":0.3}]}' >"$KG_TMP/s.json"
expect_status "scenario run" 0 "$LOAD" run "$KG_TMP/s.json"

# SIGTERM in the middle of a disk load: exits 0 at once, removes its file
kg_spawn disk "$LOAD" disk --mb-per-s 5 --block-kib 256 --dir "$DISK" --for 60s
pid=$KG_LAST_PID
kg_wait_for 5 test -n "$(find "$DISK" -type f)" || true
has_file() { [ "$(find "$DISK" -type f | wc -l)" -eq 1 ]; }
kg_wait_for 5 has_file || kg_fail "no disk file while running"
kg_stop "$pid" TERM
kg_assert_eq "SIGTERM exit status" 0 "$KG_EXIT_STATUS"
kg_assert_eq "no file after SIGTERM" 0 "$(find "$DISK" -type f | wc -l)"

# the guest-image build: Paho and OpenSSL linked in, runs the same
MIN=$(kg_bin kvmgrid-load-min)
libs=$(ldd "$MIN")
kg_assert_not_contains "no shared Paho" "$libs" "libpaho"
kg_assert_not_contains "no shared OpenSSL" "$libs" "libssl"
expect_status "kvmgrid-load-min runs" 0 "$MIN" cpu --workers 1 --pct 10 --for 300ms

#!/bin/sh
# SPDX-License-Identifier: MIT
# Bad configs and flags: exit status 2 and a file:line: message, never a crash,
# never a hang; --help, --version and --check exit 0.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
CFG="$KG_SOURCE_DIR/tests/fixtures/agent/config"

# expect_exit2 NEEDLE ARGS...
expect_exit2() {
    _needle=$1; shift
    _out=$(timeout 10 "$AGENT" "$@" 2>&1)
    _rc=$?
    kg_assert_eq "exit 2 for: $*" 2 "$_rc"
    kg_assert_contains "message for: $*" "$_out" "$_needle"
}

expect_exit2 "$CFG/unknown_key.conf:4: unknown key 'intervall'" --config "$CFG/unknown_key.conf"
expect_exit2 "$CFG/interval_range.conf:2: duration '10ms' for 'interval' is out of range" --config "$CFG/interval_range.conf"
expect_exit2 "$CFG/balloon_ro.conf:2: balloon_period: needs a read-write" --config "$CFG/balloon_ro.conf"
expect_exit2 "$CFG/bad_prefix.conf:2: prefix" --config "$CFG/bad_prefix.conf"
expect_exit2 "$CFG/bad_broker.conf:1: broker" --config "$CFG/bad_broker.conf"
expect_exit2 "$CFG/bad_level.conf:1: " --config "$CFG/bad_level.conf"
expect_exit2 "$CFG/both_passwords.conf:2: " --config "$CFG/both_passwords.conf"
expect_exit2 "$KG_TMP/none.conf: " --config "$KG_TMP/none.conf"
expect_exit2 "--intervall" --intervall 5s
expect_exit2 "--interval" --interval never
expect_exit2 "needs a value" --broker
expect_exit2 "--config needs a value" --config
expect_exit2 "unexpected argument" stray
printf 'interval = 1s\nhost = a\0b\n' > "$KG_TMP/nul.conf"
expect_exit2 "$KG_TMP/nul.conf:2: " --config "$KG_TMP/nul.conf"
printf 'interval = 1s\nhost = a\n# the same key again\ninterval = 2s\n' > "$KG_TMP/dup.conf"
expect_exit2 "$KG_TMP/dup.conf:4: 'interval' is already set on line 1" --config "$KG_TMP/dup.conf"
expect_exit2 "$KG_TMP/dup.conf:4: 'interval' is already set on line 1" --config "$KG_TMP/dup.conf" --check
head -c 5000 /dev/zero | tr '\0' x > "$KG_TMP/long.conf"
expect_exit2 "$KG_TMP/long.conf:1: " --config "$KG_TMP/long.conf"

# Home Assistant discovery's keys: every bad value names its key and line, in a
# file and as a flag, with --check too
printf 'interval = 1s\nha_discovery = maybe\n' > "$KG_TMP/ha_bool.conf"
expect_exit2 "$KG_TMP/ha_bool.conf:2: " --config "$KG_TMP/ha_bool.conf"
expect_exit2 "ha_discovery" --config "$KG_TMP/ha_bool.conf" --check
expect_exit2 "--ha-discovery: 'ha_discovery' expects true/false" --ha-discovery=maybe
long=$(head -c 200 /dev/zero | tr '\0' h)
n=0
for v in 'ha/+' '#' 'a//b' '/ha' 'ha/' '$SYS' 'ha/#/x' "$long" "$(printf 'h\001a')" \
         "$(printf 'h\377a')" ''; do
    n=$((n + 1))
    printf 'ha_discovery = true\nha_prefix = "%s"\n' "$v" > "$KG_TMP/ha_prefix$n.conf"
    expect_exit2 "$KG_TMP/ha_prefix$n.conf:2: " --config "$KG_TMP/ha_prefix$n.conf" --check
    kg_assert_contains "the message names ha_prefix ($n)" "$_out" "ha_prefix"
    expect_exit2 "ha_prefix" --ha-prefix "$v" --check
done

out=$("$AGENT" --help); rc=$?
kg_assert_eq "--help exits 0" 0 "$rc"
kg_assert_contains "--help lists flags" "$out" "--libvirt-uri"
kg_assert_contains "--help documents exit status" "$out" "Exit status"
out=$("$AGENT" --version); rc=$?
kg_assert_eq "--version exits 0" 0 "$rc"
kg_assert_contains "--version" "$out" "kvmgrid-agent "
out=$("$AGENT" --config "$CFG/good.conf" --check); rc=$?
kg_assert_eq "--check on a good file exits 0" 0 "$rc"
out=$("$AGENT" --config "$KG_SOURCE_DIR/agent/kvmgrid-agent.conf.example" --check); rc=$?
kg_assert_eq "the shipped example config is valid" 0 "$rc"

#!/bin/sh
# SPDX-License-Identifier: MIT
# The programs are one kind of MQTT client on the command line: the same
# common flags (--config, --check, --help, --version and the client settings),
# the same answers to the same mistakes, and the same exit statuses. No broker
# is needed: --check validates and exits before any connection.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

AGENT=$(kg_bin kvmgrid-agent)
WALL=$(kg_bin kvmgrid-wall)
LOAD=$(kg_bin kvmgrid-load)
TOP=$(kg_bin kvmgrid-top)

printf 's3cret\nignored\n' >"$KG_TMP/pw"
printf '\n' >"$KG_TMP/pw-empty"
printf 'username = u\npassword = inline\npassword_file = %s\n' "$KG_TMP/pw" >"$KG_TMP/both.conf"
printf 'username = u\npassword_file = %s\n' "$KG_TMP/pw" >"$KG_TMP/good.conf"

# expect NAME STATUS NEEDLE PROGRAM ARGS...: the exit status, and NEEDLE in the output
expect() {
    _name=$1 _want=$2 _needle=$3
    shift 3
    "$@" >"$KG_TMP/out" 2>&1
    _got=$?
    kg_assert_eq "$_name: exit status" "$_want" "$_got"
    kg_assert_contains "$_name: says so" "$(cat "$KG_TMP/out")" "$_needle"
}

for prog in "$AGENT" "$WALL" "$LOAD" "$TOP"; do
    p=$(basename "$prog")
    expect "$p --help" 0 "--password-file FILE" "$prog" --help
    for flag in --config --check --version --broker --username --password --ca-file \
        --cert-file --key-file --client-id --prefix --log-level "(default kvmgrid)" \
        "Exit status:"; do
        kg_assert_contains "$p --help lists $flag" "$(cat "$KG_TMP/out")" "$flag"
    done
    expect "$p --version" 0 "$p " "$prog" --version
    expect "$p unknown flag" 2 "$p: unknown or ambiguous option '--no-such' (try --help)" \
        "$prog" --no-such
    expect "$p flag without its value" 2 "$p: --broker needs a value (try --help)" \
        "$prog" --broker
    expect "$p value to a plain flag" 2 "$p: --check=1 takes no value" "$prog" --check=1
    expect "$p bad log level" 2 "$p: --log-level: " "$prog" --log-level loud --check
    expect "$p bad broker" 2 "$p: command line: broker: broker URI" \
        "$prog" --broker http://b:1 --check
    expect "$p TLS file without ssl://" 2 "$p: command line: ca_file: TLS options" \
        "$prog" --ca-file "$KG_TMP/pw" --check
    expect "$p both passwords" 2 "$p: command line: password_file: password and password_file are exclusive" \
        "$prog" --username u --password x --password-file "$KG_TMP/pw" --check
    expect "$p both passwords in a file" 2 "$p: $KG_TMP/both.conf:3: password_file: password and password_file are exclusive" \
        "$prog" -c "$KG_TMP/both.conf" --check
    expect "$p empty password file" 2 "$p: command line: password_file: $KG_TMP/pw-empty: empty first line" \
        "$prog" --username u --password-file "$KG_TMP/pw-empty" --check
    expect "$p missing password file" 2 "password_file: $KG_TMP/none: No such file or directory" \
        "$prog" --username u --password-file "$KG_TMP/none" --check
    expect "$p password without user" 2 "$p: command line: password: a password needs a user name" \
        "$prog" --password x --check
    expect "$p missing config file" 2 "$KG_TMP/none.conf: " "$prog" --config "$KG_TMP/none.conf"
    expect "$p --check on flags" 0 "command line: configuration OK" \
        "$prog" --username u --password-file "$KG_TMP/pw" --client-id "c 1" --check
    expect "$p --check on a file" 0 "$KG_TMP/good.conf: configuration OK" \
        "$prog" --config="$KG_TMP/good.conf" --check
    expect "$p flags override the file" 2 "--prefix: " \
        "$prog" -c "$KG_TMP/good.conf" --prefix "$(printf 'p%0300d' 0)" --check
done

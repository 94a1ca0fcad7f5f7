#!/bin/sh
# SPDX-License-Identifier: MIT
# The e2e rig and the guest image builder refuse bad input with a clear message
# and a non-zero status, and never leave anything behind. Boots nothing and starts
# no daemon (a fake rig.env stands in for "rig.sh up").
. "$KG_SOURCE_DIR/tests/integration/lib.sh"

RIG="$KG_SOURCE_DIR/tools/guest/rig.sh"
BUILD="$KG_SOURCE_DIR/tools/guest/build-image.sh"

# expect_err WHAT NEEDLE CMD...: CMD fails and its stderr contains NEEDLE.
expect_err() {
    _what=$1 _needle=$2; shift 2
    if "$@" >"$KG_TMP/out.txt" 2>"$KG_TMP/err.txt"; then
        kg_fail "$_what: succeeded"
    else
        kg_assert_contains "$_what" "$(cat "$KG_TMP/err.txt")" "$_needle"
    fi
}

expect_err "rig without KG_RIG_DIR" "KG_RIG_DIR" env -u KG_RIG_DIR "$RIG" down
export KG_RIG_DIR="$KG_TMP/rig"
"$RIG" bogus >/dev/null 2>&1; kg_assert_eq "unknown command exits 2" 2 $?
"$RIG" down 2>/dev/null; kg_assert_eq "down with nothing up is fine" 0 $?
expect_err "boot before up" "not up" "$RIG" boot g1 --port 1883
expect_err "owner not a PID" "must be a PID" env KG_RIG_OWNER=me "$RIG" up
sh -c 'exit 0' & dead=$!; wait "$dead"
expect_err "owner not running" "does not run" env KG_RIG_OWNER="$dead" "$RIG" up
expect_err "KG_RIG_COLD not 0 or 1" "must be 0 or 1" env KG_RIG_COLD=yes "$RIG" up
[ -e "$KG_RIG_DIR" ] && kg_fail "refused up left $KG_RIG_DIR" || kg_pass "refused up leaves no state directory"
expect_err "wait on an unknown guest" "no guest" "$RIG" wait g1 x 1

mkdir -p "$KG_RIG_DIR/guests"
printf 'KG_RIG_URI=test:///default\nKG_RIG_VIRT=qemu\nKG_GUEST_KERNEL=/nonexistent\nKG_GUEST_INITRD=/nonexistent\n' >"$KG_RIG_DIR/rig.env"
expect_err "bad guest name" "must be" "$RIG" boot 'a b' --port 1
expect_err "guest name with a slash" "must be" "$RIG" boot '../x' --port 1
expect_err "over-long guest name" "longer than 48" "$RIG" boot "$(printf 'x%.0s' $(seq 1 60))" --port 1
expect_err "missing --port" "--port PORT" "$RIG" boot g1
expect_err "non-numeric --mem" "--mem needs a number" "$RIG" boot g1 --port 1 --mem lots
expect_err "port out of range" "not a TCP port" "$RIG" boot g1 --port 70000
expect_err "too little memory" "at least 64 MiB" "$RIG" boot g1 --port 1 --mem 8
expect_err "no vCPU" "1 to 64" "$RIG" boot g1 --port 1 --vcpus 0
expect_err "unknown boot option" "unknown argument" "$RIG" boot g1 --port 1 --gpu
expect_err "spaces in --args" "cannot contain spaces" "$RIG" boot g1 --port 1 --args 'a b'
expect_err "destroy an unknown guest" "no guest" "$RIG" destroy g1
kg_assert_eq "no guest directory left by refused boots" "" "$(ls "$KG_RIG_DIR/guests")"
"$RIG" down 2>/dev/null; kg_assert_eq "down" 0 $?
[ -e "$KG_RIG_DIR" ] && kg_fail "rig directory left" || kg_pass "rig directory removed"

export KG_GUEST_CACHE="$KG_TMP/cache"
expect_err "image: unknown option" "unknown argument" "$BUILD" --bogus
printf 'data\n' >"$KG_TMP/data"; chmod 644 "$KG_TMP/data"
expect_err "image: load not executable" "not an executable" "$BUILD" --load "$KG_TMP/data"
printf '#!/bin/sh\n' >"$KG_TMP/script"; chmod +x "$KG_TMP/script"
expect_err "image: load not ELF" "not an ELF" "$BUILD" --load "$KG_TMP/script" --kernel-pkg linux-image-none
expect_err "image: bad kernel package" "not a linux-image" "$BUILD" --kernel-pkg busybox
exit 0

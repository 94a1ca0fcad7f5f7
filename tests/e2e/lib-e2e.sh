# SPDX-License-Identifier: MIT
# Helpers for kvmgrid's end-to-end tests on real QEMU guests, on top of
# tests/integration/lib.sh (source that first). The rig (tools/guest/rig.sh) keeps
# its state in $KG_TMP/rig; kg_e2e_up registers its teardown so that guests,
# taps, files and the daemons the rig started go away however the test ends, and
# copies every guest's serial console into $KG_TMP so that a failure shows it.

KG_RIG="$KG_SOURCE_DIR/tools/guest/rig.sh"
export KG_RIG_DIR="$KG_TMP/rig"
KG_E2E_GUESTS=""
KG_E2E_GONE=""
KG_E2E_COLD_DIRS=""

# kg_e2e_load_binary: the kvmgrid-load to put in the guest. KG_GUEST_LOAD wins
# ("placeholder" selects tools/guest/placeholder-load.c); else a static build in the
# build tree; else the build tree's kvmgrid-load (build-image.sh copies its shared
# libraries along). Prints the path, "" for the placeholder; fails when none exists.
kg_e2e_load_binary() {
    case "${KG_GUEST_LOAD:-}" in
    placeholder) echo ""; return 0 ;;
    ?*) echo "$KG_GUEST_LOAD"; return 0 ;;
    esac
    for f in "$KG_BUILD_DIR/loadgen/kvmgrid-load-static" "$KG_BUILD_DIR/loadgen/kvmgrid-load"; do
        if [ -x "$f" ]; then echo "$f"; return 0; fi
    done
    return 1
}

kg_e2e_save_consoles() {
    for g in $KG_E2E_GUESTS; do
        c="$KG_RIG_DIR/guests/$g/console.log"
        [ -f "$c" ] && cp "$c" "$KG_TMP/console-$g.log"
    done
    return 0
}

kg_e2e_cleanup() {
    _rc=$?
    kg_e2e_save_consoles
    if [ -d "$KG_RIG_DIR" ]; then "$KG_RIG" down >>"$KG_TMP/rig.log" 2>&1 || kg_log "rig down failed (see rig.log)"; fi
    (exit $_rc)
    kg_cleanup
}

# kg_e2e_watchdog SECONDS: SIGTERM to this test after SECONDS, so that its EXIT trap
# tears the rig down. ctest ends a test past its TIMEOUT with SIGKILL (cmake 3.25 has
# no TIMEOUT_SIGNAL_NAME), and then no trap runs: the guests would live on until the
# next rig's gc (which finds them through KG_RIG_OWNER). Stopped by kg_cleanup.
kg_e2e_watchdog() {
    (
        trap 'kill "$_sp" 2>/dev/null; exit 0' TERM
        sleep "$1" &
        _sp=$!
        if wait "$_sp"; then
            kg_log "FATAL: still running after $1 s (KG_E2E_DEADLINE_S): tearing down before ctest's SIGKILL"
            kill -TERM $$
        fi
    ) &
    KG_PIDS="$KG_PIDS $!"
}

# kg_e2e_up: starts the rig (daemons if missing, guest image), with teardown on exit.
# KG_E2E_DEADLINE_S (default 840, under the tests' ctest TIMEOUT of 900): the watchdog.
kg_e2e_up() {
    trap kg_e2e_cleanup EXIT
    kg_e2e_watchdog "${KG_E2E_DEADLINE_S:-840}"
    # The rig belongs to this shell: if it dies without teardown (SIGKILL), the next
    # rig's "up" destroys its guests and removes its state directory.
    export KG_RIG_OWNER=$$
    # The rig directory lives in KG_TMP: a libvirtd that runs QEMU as libvirt-qemu
    # must be able to traverse it.
    chmod 711 "$KG_TMP"
    _load=$(kg_e2e_load_binary) || kg_die "kvmgrid-load is not built under $KG_BUILD_DIR/loadgen (KG_GUEST_LOAD=placeholder to use tools/guest/placeholder-load.c)"
    if [ -n "$_load" ]; then
        kg_log "guest load generator: $_load"
        export KG_GUEST_LOAD="$_load"
    else
        kg_log "guest load generator: tools/guest/placeholder-load.c (KG_GUEST_LOAD=placeholder)"
        unset KG_GUEST_LOAD
    fi
    _t0=$(date +%s)
    "$KG_RIG" up >>"$KG_TMP/rig.log" 2>&1 || kg_die "rig up failed (see rig.log)"
    kg_log "rig up in $(($(date +%s) - _t0)) s: $(grep -E '^KG_RIG_(URI|VIRT)=' "$KG_RIG_DIR/rig.env" | tr '\n' ' ')"
}

# kg_e2e_boot NAME [rig boot options]: boots a guest whose load generator uses the
# private broker ($KG_PORT).
kg_e2e_boot() {
    _n=$1; shift
    KG_E2E_GUESTS="$KG_E2E_GUESTS $_n"
    "$KG_RIG" boot "$_n" --port "$KG_PORT" "$@" >>"$KG_TMP/rig.log" 2>&1 || kg_die "rig boot $_n failed (see rig.log)"
}

# kg_e2e_domstat NAME FIELD: prints FIELD of `virsh domstats NAME` (empty if absent).
kg_e2e_domstat() {
    "$KG_RIG" virsh domstats "$1" 2>/dev/null | sed -n "s/^ *$2=//p" | head -n 1
}

# kg_e2e_rate NAME FIELD SECONDS: average increase per second of a domstats counter.
kg_e2e_rate() {
    _a=$(kg_e2e_domstat "$1" "$2"); _ta=$(date +%s.%N)
    sleep "$3"
    _b=$(kg_e2e_domstat "$1" "$2"); _tb=$(date +%s.%N)
    awk -v a="${_a:-0}" -v b="${_b:-0}" -v ta="$_ta" -v tb="$_tb" 'BEGIN { printf "%.0f", (b - a) / (tb - ta) }'
}

# kg_e2e_check_consoles: no guest console shows a kernel panic, an oops, the OOM killer or a
# sanitizer report (an ASan build of kvmgrid-load runs in the guest under run.sh test).
kg_e2e_check_consoles() {
    for g in $KG_E2E_GUESTS $KG_E2E_GONE; do
        c="$KG_RIG_DIR/guests/$g/console.log"
        [ -f "$c" ] || c="$KG_TMP/console-$g.log"
        [ -f "$c" ] || continue
        if grep -qE 'Kernel panic|Oops|BUG:|Out of memory|AddressSanitizer|LeakSanitizer|runtime error:' "$c"; then
            kg_fail "$g's console shows a crash or a sanitizer report: $(grep -m 1 -E 'Kernel panic|Oops|BUG:|Out of memory|AddressSanitizer|LeakSanitizer|runtime error:' "$c")"
        else
            kg_pass "$g's console is clean"
        fi
    done
}

# kg_e2e_destroy NAME: destroys and undefines a guest (its console kept in $KG_TMP).
kg_e2e_destroy() {
    kg_e2e_save_consoles
    "$KG_RIG" destroy "$1" >>"$KG_TMP/rig.log" 2>&1 || kg_fail "rig destroy $1"
    _rest=""
    for _g in $KG_E2E_GUESTS; do [ "$_g" = "$1" ] || _rest="$_rest $_g"; done
    KG_E2E_GUESTS=$_rest
    KG_E2E_GONE="$KG_E2E_GONE $1"
}

# kg_e2e_rig_env KEY: prints KEY's value from the rig's rig.env (empty if absent).
kg_e2e_rig_env() {
    sed -n "s/^$1=//p" "$KG_RIG_DIR/rig.env" 2>/dev/null | head -n 1
}

# kg_e2e_check_cold: after kg_e2e_up with KG_GUEST_CACHE an empty (or absent) directory
# and KG_RIG_COLD=1, the first-run paths were walked: the guest image was downloaded and
# built, not taken from a cache, and the rig started libvirtd on empty state directories
# (rig.sh: KG_RIG_COLD), where it probed QEMU's capabilities into its own, empty cache
# and made its domain state directories from nothing.
# A libvirtd that another rig started (another test run on this machine; e2e tests of
# one ctest run never overlap: RESOURCE_LOCK kvmgrid_e2e_libvirt, and each rig stops the
# daemons it started) cannot be restarted from empty state: that is logged, not failed.
# One that no rig started (a system service) means no run here ever walks the cold
# path: that fails. Sets KG_E2E_COLD_DIRS ("" unless cold).
kg_e2e_check_cold() {
    KG_E2E_COLD_DIRS=""
    for _w in "build-image: downloading linux-image-" "build-image: downloading busybox-static" \
        "build-image: built $KG_GUEST_CACHE/img-"; do
        if grep -qF "$_w" "$KG_TMP/rig.log"; then kg_pass "guest image from an empty cache: $_w"
        else kg_fail "rig.log has no '$_w': the guest image was not built from an empty cache"; fi
    done
    _st=$(kg_e2e_rig_env KG_RIG_LIBVIRTD_STATE)
    _pid=$(kg_e2e_rig_env KG_RIG_LIBVIRTD_PID)
    case "$_st" in
    cold) ;;
    rig)
        kg_log "NOTE: libvirtd $_pid was started by another rig (another test run on this machine): the cold libvirtd start is not walked in this run"
        return 0 ;;
    *)
        kg_fail "libvirtd ${_pid:-?} is '$_st', not started by the rig from empty state: a libvirtd that no rig started (a system service?) keeps every run from walking the cold start"
        return 0 ;;
    esac
    KG_E2E_COLD_DIRS=$(kg_e2e_rig_env KG_RIG_LIBVIRTD_DIRS)
    kg_log "libvirtd $_pid started from empty state in $KG_E2E_COLD_DIRS; $(grep -m 1 'libvirt capabilities in' "$KG_TMP/rig.log" | sed 's/^rig: //')"
    if [ -n "$KG_E2E_COLD_DIRS" ] && ls "$KG_E2E_COLD_DIRS"/cache/qemu/capabilities/*.xml >/dev/null 2>&1; then
        kg_pass "libvirtd probed QEMU into its empty capabilities cache ($(ls "$KG_E2E_COLD_DIRS"/cache/qemu/capabilities/ | tr '\n' ' '))"
    else
        kg_fail "no QEMU capabilities in ${KG_E2E_COLD_DIRS:-?}/cache/qemu/capabilities"
    fi
    [ -d "$KG_E2E_COLD_DIRS/lib/qemu" ] && kg_pass "libvirtd made /var/lib/libvirt/qemu from nothing" ||
        kg_fail "no $KG_E2E_COLD_DIRS/lib/qemu"
}

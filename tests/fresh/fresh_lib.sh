# SPDX-License-Identifier: MIT
# Helpers for kvmgrid's fresh-root tests (label "fresh"): a bare Debian 12 root,
# made by debootstrap from the machine's own Debian mirror and unpacked anew for
# every test, entered with chroot as its root user. Source after lib.sh:
#
#   . "$KG_SOURCE_DIR/tests/integration/lib.sh"
#   . "$KG_SOURCE_DIR/tests/fresh/fresh_lib.sh"
#   kg_fresh_up                    # $KG_FRESH_ROOT ready; teardown on exit; watchdog
#   kg_fresh_step NAME CMD ...     # CMD on the host, logged to $KG_TMP/NAME.log, timed
#   kg_fresh_step NAME kg_fresh_chroot CMD ...   # CMD inside the root
#
# The pristine root (debootstrap's result with its apt caches emptied) is kept as
# a tarball in $KG_FRESH_CACHE, one per suite and mirror, rebuilt when older than
# KG_FRESH_MAX_AGE_DAYS; every test unpacks its own copy, so every test still
# installs everything from a root that has nothing but Debian's required packages
# and empty apt lists. KG_KEEP=1 keeps a failed test's root (and its mounts are
# still removed).
#
# The host's apt cache (/var/cache/apt/archives) is not shared with the roots:
# it would skip exactly the step a first run depends on (every .deb fetched
# from the mirror into an empty cache, by apt's _apt sandbox user, through the
# root's own sources and resolver), to save what the mirror delivers in about
# 15 s for fresh_build's ~200 MB. The network is only the mirror's, by apt.
#
# Safety: the root lives outside $KG_TMP (in $KG_FRESH_WORK_BASE/kvmgrid-fresh.*)
# and is removed with rm --one-file-system only after every mount under it is
# gone: a removal must never descend into the host's /dev, /sys or /proc.

KG_FRESH_SUITE=bookworm
: "${KG_FRESH_CACHE:=/var/cache/kvmgrid/fresh}"
: "${KG_FRESH_MAX_AGE_DAYS:=7}"
: "${KG_FRESH_APT_DIR:=/etc/apt}"
: "${KG_FRESH_WORK_BASE:=/var/tmp}"
KG_FRESH_WORK=""
KG_FRESH_ROOT=""
KG_FRESH_T0=$(date +%s)

# kg_fresh_elapsed: seconds since the test started.
kg_fresh_elapsed() { echo $(($(date +%s) - KG_FRESH_T0)); }

# kg_fresh_mirror APT_DIR: prints the first Debian mirror that serves
# "bookworm main" in APT_DIR's sources (sources.list, then sources.list.d/ in
# apt's order; one-line .list and deb822 .sources formats). Debian's own
# repositories are told from third-party ones (nodesource, Google Cloud SDK,
# Docker ...) by the suite and component, by a URI path ending in /debian
# (snapshot.debian.org's /debian/<timestamp> too; debian-security is not a full
# mirror and does not match) and by a Signed-By, when there is one, naming
# Debian's archive keyring. debootstrap then checks the mirror's Release file
# against that keyring. Fails when none matches.
kg_fresh_mirror() {
    _apt=$1
    for _f in "$_apt/sources.list" "$_apt"/sources.list.d/*; do
        [ -f "$_f" ] || continue
        case "$_f" in
        *.list) _mode=list ;;
        *.sources) _mode=sources ;;
        *) continue ;;   # apt ignores other names (e.g. *.disabled, *.save)
        esac
        _m=$(awk -v mode="$_mode" -v suite="$KG_FRESH_SUITE" '
            function has(list, word,   n, i, w) {
                n = split(list, w)
                for (i = 1; i <= n; i++) if (w[i] == word) return 1
                return 0
            }
            function debian_uri(u) {
                sub(/\/+$/, "", u)
                if (u !~ /^(https?|ftp|file):\/\//) return 0
                return u ~ /\/debian$/ || u ~ /\/debian\/[0-9]+T[0-9]+Z$/
            }
            function emit(uris,   n, i, w) {
                n = split(uris, w)
                for (i = 1; i <= n; i++) if (debian_uri(w[i])) { print w[i]; found = 1; exit }
            }
            function debian_key(k) { return k ~ /debian-archive-keyring/ }
            function flush() {
                if (found) return
                if ("types" in f && has(f["types"], "deb") && tolower(f["enabled"]) != "no" \
                    && has(f["suites"], suite) && has(f["components"], "main") \
                    && (!("signed-by" in f) || debian_key(f["signed-by"]))) emit(f["uris"])
                split("", f)
            }
            mode == "list" {
                sub(/#.*/, "")
                key = ""
                if (match($0, /signed-by=[^] \t]*/)) key = substr($0, RSTART, RLENGTH)
                gsub(/\[[^]]*\]/, " ")
                if (NF >= 4 && $1 == "deb" && $3 == suite && debian_uri($2) && (key == "" || debian_key(key))) {
                    for (i = 4; i <= NF; i++) if ($i == "main") { print $2; found = 1; exit }
                }
                next
            }
            /^#/ { next }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]/ { next }   # continuation lines (e.g. an inline Signed-By key)
            {
                k = $0; sub(/:.*/, "", k); k = tolower(k)
                v = $0; sub(/^[^:]*:[ \t]*/, "", v)
                f[k] = v
            }
            END { if (mode == "sources") flush() }
        ' "$_f")
        if [ -n "$_m" ]; then echo "${_m%/}"; return 0; fi
    done
    return 1
}

# kg_fresh_mounts_under DIR: mount points at or under DIR, deepest first.
kg_fresh_mounts_under() {
    awk -v r="$1" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# kg_fresh_unmount_under DIR: unmounts everything at or under DIR (lazily when
# busy); fails when something is still mounted there.
kg_fresh_unmount_under() {
    _try=0
    while [ -n "$(kg_fresh_mounts_under "$1")" ]; do
        [ $_try -lt 3 ] || { kg_log "still mounted under $1: $(kg_fresh_mounts_under "$1" | tr '\n' ' ')"; return 1; }
        for _mp in $(kg_fresh_mounts_under "$1"); do
            umount "$_mp" 2>/dev/null || umount -l "$_mp" 2>/dev/null || true
        done
        _try=$((_try + 1))
    done
    return 0
}

# kg_fresh_remove DIR: unmounts everything under DIR, then removes it without
# ever crossing into another file system. Refuses when a mount stays.
kg_fresh_remove() {
    [ -d "$1" ] || return 0
    kg_fresh_unmount_under "$1" || return 1
    rm -rf --one-file-system "$1"
}

# kg_fresh_root_pids: PIDs of the processes whose root directory is the fresh
# root (or under it), i.e. everything that runs inside it.
kg_fresh_root_pids() {
    _r=$KG_FRESH_ROOT
    [ -n "$_r" ] || return 0
    for _d in /proc/[0-9]*; do
        _l=$(readlink "$_d/root" 2>/dev/null) || continue
        case "$_l" in "$_r"|"$_r"/*) echo "${_d#/proc/}" ;; esac
    done
    return 0
}

# kg_fresh_kill_root_pids: SIGTERM to every process inside the root, SIGKILL
# after 5 s, each by its PID.
kg_fresh_kill_root_pids() {
    _pids=$(kg_fresh_root_pids)
    [ -n "$_pids" ] || return 0
    kg_log "stopping processes left inside the root: $_pids"
    for _p in $_pids; do kill -TERM "$_p" 2>/dev/null || true; done
    _i=0
    while [ -n "$(kg_fresh_root_pids)" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
    for _p in $(kg_fresh_root_pids); do kill -KILL "$_p" 2>/dev/null || true; done
    return 0
}

kg_fresh_cleanup() {
    _rc=$?
    # Teardown runs to its end whatever fails on the way (a process already
    # gone, a busy mount): under the tests' set -e a failing command would end
    # the shell with the broker, the watchdog or the mounts left behind.
    set +e
    if [ -n "$KG_FRESH_WORK" ] && [ -d "$KG_FRESH_WORK" ]; then
        kg_fresh_kill_root_pids
        if ! kg_fresh_unmount_under "$KG_FRESH_WORK"; then
            kg_log "FAIL: mounts stay under $KG_FRESH_WORK; the root is not removed"
            KG_FAILS=$((KG_FAILS + 1))
        elif [ -n "${KG_KEEP:-}" ] && { [ "$_rc" -ne 0 ] || [ "$KG_FAILS" -ne 0 ]; }; then
            : > "$KG_FRESH_WORK/keep"
            kg_log "KG_KEEP: root kept in $KG_FRESH_ROOT (remove with rm -rf --one-file-system $KG_FRESH_WORK)"
        else
            rm -rf --one-file-system "$KG_FRESH_WORK"
        fi
    fi
    kg_log "total: $(kg_fresh_elapsed) s"
    (exit "$_rc")
    kg_cleanup
}

# kg_fresh_watchdog SECONDS: SIGTERM to this test after SECONDS, so that its EXIT
# trap stops the processes in the root and unmounts /proc, /sys and /dev there
# before ctest's SIGKILL at TIMEOUT (after which no trap runs). Long steps run
# through kg_fresh_step, in the background, so that the shell's wait is
# interrupted by the signal at once. Stopped by kg_cleanup; when the test shell
# is gone without it (SIGKILL), the watchdog signals nobody: its parent is then
# no longer the test, and the test's PID may belong to another process by then.
kg_fresh_watchdog() {
    (
        trap 'kill "$_sp" 2>/dev/null; exit 0' TERM
        sleep "$1" &
        _sp=$!
        wait "$_sp" || exit 0
        # this subshell's parent (field 4; read is a builtin: /proc/self is this shell)
        read -r _ _ _ _ppid _ < /proc/self/stat
        if [ "$_ppid" = "$$" ]; then
            kg_log "FATAL: still running after $1 s (KG_FRESH_DEADLINE_S): tearing down before ctest's SIGKILL"
            kill -TERM $$
        fi
    ) &
    KG_PIDS="$KG_PIDS $!"
}

# kg_fresh_step NAME CMD ...: runs CMD in the background (so that a signal to the
# test interrupts the wait), output in $KG_TMP/NAME.log; logs its duration.
# Returns CMD's status.
kg_fresh_step() {
    _name=$1; shift
    _t=$(date +%s)
    kg_log "phase $_name: started at +$(kg_fresh_elapsed) s"
    "$@" >>"$KG_TMP/$_name.log" 2>&1 </dev/null &
    _sp=$!
    KG_PIDS="$KG_PIDS $_sp"
    _st=0
    wait "$_sp" || _st=$?
    kg_log "phase $_name: $(($(date +%s) - _t)) s (exit $_st)"
    return "$_st"
}

# kg_fresh_chroot CMD ...: CMD inside the root as its root user, with the
# environment a root login on a fresh machine has and nothing of the test's.
kg_fresh_chroot() {
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root TERM=dumb chroot "$KG_FRESH_ROOT" "$@"
}

# kg_fresh_gc: removes the roots of fresh tests that died without teardown
# (SIGKILL): their owner is gone. Kept roots (KG_KEEP) only lose their mounts.
kg_fresh_gc() {
    for _w in "$KG_FRESH_WORK_BASE"/kvmgrid-fresh.*; do
        [ -d "$_w" ] || continue
        _o=$(cat "$_w/owner" 2>/dev/null || true)
        if [ -n "$_o" ] && kill -0 "$_o" 2>/dev/null; then continue; fi
        if [ -e "$_w/keep" ]; then kg_fresh_unmount_under "$_w" || true; continue; fi
        kg_log "removing the root of a test that died: $_w"
        kg_fresh_remove "$_w" || kg_log "could not remove $_w"
    done
    return 0
}

# kg_fresh_build_pristine TARBALL: debootstrap, emptied apt caches, tarball.
# Runs under the cache lock.
kg_fresh_build_pristine() {
    for _b in "$KG_FRESH_CACHE"/build.*; do
        [ -d "$_b" ] || continue
        kg_fresh_remove "$_b" || return 1
    done
    _b="$KG_FRESH_CACHE/build.$$"
    kg_log "debootstrap --variant=minbase $KG_FRESH_SUITE from $KG_FRESH_MIRROR"
    debootstrap --variant=minbase "$KG_FRESH_SUITE" "$_b" "$KG_FRESH_MIRROR" \
        >>"$KG_TMP/debootstrap.log" 2>&1 || { kg_fresh_remove "$_b"; return 1; }
    # As bare as Debian gets: no downloaded packages and no package lists, so
    # that every install must fetch both, as on a machine never updated.
    find "$_b/var/cache/apt/archives" -maxdepth 1 -type f -name '*.deb' -exec rm -f {} +
    find "$_b/var/lib/apt/lists" -maxdepth 1 -type f ! -name lock -exec rm -f {} +
    tar --numeric-owner -C "$_b" -cf "$1.tmp.$$" . || { rm -f "$1.tmp.$$"; kg_fresh_remove "$_b"; return 1; }
    mv -f "$1.tmp.$$" "$1"
    kg_fresh_remove "$_b"
}

# kg_fresh_pristine: sets KG_FRESH_MIRROR and KG_FRESH_TARBALL, building the
# tarball when it is missing or older than KG_FRESH_MAX_AGE_DAYS. A lock keeps
# two tests from building it at once; the second one waits and unpacks it.
kg_fresh_pristine() {
    command -v debootstrap >/dev/null || kg_die "debootstrap is missing (third_party/install.sh test)"
    for _c in flock chroot unshare mount umount tar git; do
        command -v "$_c" >/dev/null || kg_die "$_c is missing"
    done
    KG_FRESH_MIRROR=$(kg_fresh_mirror "$KG_FRESH_APT_DIR") \
        || kg_die "no Debian mirror for '$KG_FRESH_SUITE main' in $KG_FRESH_APT_DIR/sources.list or $KG_FRESH_APT_DIR/sources.list.d/*.{list,sources}"
    _key=$(printf '%s %s\n' "$KG_FRESH_SUITE" "$KG_FRESH_MIRROR" | sha256sum | cut -c1-16)
    KG_FRESH_TARBALL="$KG_FRESH_CACHE/$KG_FRESH_SUITE-minbase-$_key.tar"
    mkdir -p "$KG_FRESH_CACHE"
    _t=$(date +%s)
    kg_log "phase pristine: started at +$(kg_fresh_elapsed) s (mirror $KG_FRESH_MIRROR)"
    (
        trap '' TERM   # the watchdog's signal ends the test shell, not a half-written cache
        flock -w 900 9 || { kg_log "cache lock $KG_FRESH_CACHE/lock not free within 900 s"; exit 1; }
        # other mirrors' tarballs that nobody refreshed for long
        find "$KG_FRESH_CACHE" -maxdepth 1 -type f -name '*.tar' -mtime "+$((KG_FRESH_MAX_AGE_DAYS * 2))" -exec rm -f {} +
        if [ -f "$KG_FRESH_TARBALL" ] && [ -z "$(find "$KG_FRESH_TARBALL" -mtime "+$KG_FRESH_MAX_AGE_DAYS")" ]; then
            kg_log "pristine root cached: $KG_FRESH_TARBALL"
            exit 0
        fi
        kg_fresh_build_pristine "$KG_FRESH_TARBALL"
    ) 9>"$KG_FRESH_CACHE/lock" &
    _sp=$!
    _st=0
    wait "$_sp" || _st=$?
    kg_log "phase pristine: $(($(date +%s) - _t)) s (exit $_st)"
    [ "$_st" -eq 0 ] || kg_die "no pristine root (see debootstrap.log)"
}

# kg_fresh_up: a fresh root in $KG_FRESH_ROOT with /proc, /sys (read-only) and
# /dev mounted, teardown on exit, watchdog at KG_FRESH_DEADLINE_S (default 1140,
# under the tests' ctest TIMEOUT of 1200).
kg_fresh_up() {
    [ "$(id -u)" -eq 0 ] || kg_die "the fresh-root tests need root (chroot, mount, debootstrap)"
    trap kg_fresh_cleanup EXIT
    kg_fresh_watchdog "${KG_FRESH_DEADLINE_S:-1140}"
    kg_fresh_gc
    kg_fresh_pristine
    _t=$(date +%s)
    KG_FRESH_WORK=$(mktemp -d "$KG_FRESH_WORK_BASE/kvmgrid-fresh.XXXXXX")
    echo $$ > "$KG_FRESH_WORK/owner"
    KG_FRESH_ROOT="$KG_FRESH_WORK/root"
    mkdir "$KG_FRESH_ROOT"
    tar --numeric-owner -C "$KG_FRESH_ROOT" -xpf "$KG_FRESH_TARBALL"
    mount -t proc proc "$KG_FRESH_ROOT/proc"
    mount --bind /sys "$KG_FRESH_ROOT/sys"
    mount -o remount,bind,ro "$KG_FRESH_ROOT/sys"
    mount --bind /dev "$KG_FRESH_ROOT/dev"
    # Name resolution for apt, as any installed machine has it.
    cat /etc/resolv.conf > "$KG_FRESH_ROOT/etc/resolv.conf"
    # No init runs in a chroot: services that packages would start (mosquitto,
    # ...) are not started, as in Debian's own build chroots and container images.
    printf '#!/bin/sh\n# fresh-root test: no services start in this chroot\nexit 101\n' \
        > "$KG_FRESH_ROOT/usr/sbin/policy-rc.d"
    chmod 755 "$KG_FRESH_ROOT/usr/sbin/policy-rc.d"
    # dpkg without fsync: the root is thrown away, so durability buys nothing
    # here, and what gets installed is the same.
    echo force-unsafe-io > "$KG_FRESH_ROOT/etc/dpkg/dpkg.cfg.d/fresh-test-unsafe-io"
    kg_log "phase unpack: $(($(date +%s) - _t)) s (root $KG_FRESH_ROOT)"
}

# kg_fresh_git ARGS...: git on the source tree (whoever owns it: the test runs as root).
kg_fresh_git() { git -C "$KG_SOURCE_DIR" -c safe.directory="$KG_SOURCE_DIR" "$@"; }

# kg_fresh_source DEST: a clean `git archive` of HEAD at DEST inside the root; from
# a tree that is not a git checkout (a release tarball, or no git installed), a
# copy of the tree without its build directories (build*, dist, the test's own
# build directory).
kg_fresh_source() {
    _git=kg_fresh_git
    if ! command -v git >/dev/null 2>&1 || ! $_git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        mkdir -p "$KG_FRESH_ROOT$1"
        _own=""
        case "${KG_BUILD_DIR:-}" in "$KG_SOURCE_DIR"/*) _own="./${KG_BUILD_DIR#"$KG_SOURCE_DIR"/}" ;; esac
        tar -C "$KG_SOURCE_DIR" --exclude='./build*' --exclude=./dist --exclude=./.git \
            ${_own:+--exclude="$_own"} -cf - . | tar -C "$KG_FRESH_ROOT$1" -xf - \
            || kg_die "copying $KG_SOURCE_DIR into the root failed"
        kg_log "source: $KG_SOURCE_DIR is not a git checkout; a copy of the tree without build directories in $1"
        return 0
    fi
    _head=$($_git rev-parse --short HEAD) || kg_die "$KG_SOURCE_DIR has no commit"
    if [ -n "$($_git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
        kg_log "note: uncommitted changes in $KG_SOURCE_DIR are not part of this test (HEAD $_head is)"
    fi
    $_git archive --format=tar -o "$KG_TMP/source.tar" HEAD || kg_die "git archive HEAD failed"
    mkdir -p "$KG_FRESH_ROOT$1"
    tar -C "$KG_FRESH_ROOT$1" -xf "$KG_TMP/source.tar"
    rm -f "$KG_TMP/source.tar"
    kg_log "source: git archive of HEAD $_head in $1"
}

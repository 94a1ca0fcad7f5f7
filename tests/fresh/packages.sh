#!/bin/sh
# SPDX-License-Identifier: MIT
# kvmgrid's .debs installed as an operator would, in a bare Debian 12 root whose
# host name is as Debian's installer leaves it ("debian", 127.0.1.1 in /etc/hosts):
#   - before: no kvmgrid user, group or directory;
#   - the packages' dependencies resolve from Debian's mirror alone, and
#     `apt-get install ./kvmgrid-*.deb` installs them;
#   - the kvmgrid user and directories exist; systemd-analyze verify accepts the
#     units; the manuals render with man;
#   - the installed agent, started by hand as its unit starts it (its user, its
#     config, which sets no host) on libvirt's test driver, publishes to a broker
#     outside the root under kvmgrid/debian/;
#   - apt-get purge of the four leaves nothing behind.
#   packages.sh DIST     (DIST: the fixture's tools/package.sh --out directory)
set -eu
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/fresh/fresh_lib.sh"

dist=$1
PKGS="kvmgrid-agent kvmgrid-wall kvmgrid-load kvmgrid-broker"
for p in $PKGS; do
    [ "$(find "$dist" -maxdepth 1 -name "${p}_*.deb" | wc -l)" -eq 1 ] \
        || kg_die "no single ${p}_*.deb in $dist (the fixture fresh_package_build makes them)"
done
if [ "$(hostname)" = debian ]; then
    kg_die "this machine is called 'debian' too: the host name check would prove nothing"
fi

kg_broker_start   # on the host, on loopback: the chroot shares its network
kg_fresh_up
R=$KG_FRESH_ROOT

# The host name and /etc/hosts as Debian's installer writes them.
echo debian > "$R/etc/hostname"
cat > "$R/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	debian

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
EOF

# in_root CMD ...: CMD inside the root, apt and debconf never asking.
in_root() { kg_fresh_chroot env DEBIAN_FRONTEND=noninteractive "$@"; }
apt_root() { in_root apt-get -y -q -o Dpkg::Use-Pty=0 "$@"; }

# no_kvmgrid WHEN: no kvmgrid package, user, group, or directory of its own.
no_kvmgrid() {
    kg_assert_eq "$1: no kvmgrid package known to dpkg" "" \
        "$(in_root dpkg-query -W -f '${Package} ${db:Status-Abbrev}\n' 'kvmgrid*' 2>/dev/null || true)"
    kg_assert_eq "$1: no kvmgrid user" "" "$(in_root getent passwd kvmgrid || true)"
    kg_assert_eq "$1: no kvmgrid group" "" "$(in_root getent group kvmgrid || true)"
    for d in /etc/kvmgrid /var/lib/kvmgrid /var/log/kvmgrid /run/kvmgrid /usr/share/kvmgrid \
        /usr/share/doc/kvmgrid-agent /usr/share/doc/kvmgrid-wall /usr/share/doc/kvmgrid-load \
        /usr/share/doc/kvmgrid-broker; do
        if [ -e "$R$d" ]; then kg_fail "$1: $d exists"; fi
    done
    # anything named after kvmgrid, anywhere but the logs (apt's and dpkg's name
    # the packages) and /tmp (the .debs)
    named=$(cd "$R" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp \
        -o -path ./var/log \) -prune -o -iname '*kvmgrid*' -print | sort)
    kg_assert_eq "$1: no file named *kvmgrid* in the root" "" "$named"
}

# snapshot NAME: the root's file list (type, mode, owner, path), outside the
# places that change by themselves (apt and dpkg state, caches, logs, /tmp);
# the contents of /etc; the accounts files. In $KG_TMP/NAME.*.
snapshot() {
    (cd "$R" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o -path ./run \
        -o -path ./var/tmp -o -path ./var/log -o -path ./var/cache -o -path ./var/lib/apt \
        -o -path ./var/lib/dpkg \) -prune -o -printf '%y %m %U:%G %p\n' | sort -k 4) > "$KG_TMP/$1.files"
    # /etc by content; the accounts' backup files (passwd- ...) and the linker's
    # cache change with any package
    (cd "$R" && find ./etc -xdev -type f ! -name '*-' ! -path ./etc/ld.so.cache -exec sha256sum {} + | sort -k 2) \
        > "$KG_TMP/$1.etc"
    for f in passwd group shadow gshadow; do cat "$R/etc/$f"; done > "$KG_TMP/$1.accounts"
}

# installed_set: the installed packages, one per line.
installed_set() {
    in_root dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | sort
}

no_kvmgrid "before install"

kg_fresh_step apt-update apt_root update || kg_die "apt-get update failed in the root (see apt-update.log)"
# The operator's tools for the checks: systemd (for systemd-analyze) and man-db.
kg_fresh_step tools apt_root install --no-install-recommends systemd man-db \
    || kg_die "installing systemd and man-db failed (see tools.log)"

mkdir -p "$R/tmp/dist"
for p in $PKGS; do cp "$dist/${p}"_*.deb "$R/tmp/dist/"; done
debs=""   # ./tmp/dist/NAME.deb: a path apt-get install takes for a file, from /
for p in $PKGS; do for f in "$R/tmp/dist/${p}"_*.deb; do debs="$debs ./${f#"$R"/}"; done; done

# The packages' dependencies (their own Depends and Pre-Depends, resolved by apt
# as for the operator's command), first alone, from Debian's mirror (the root
# knows no other source), so that what the packages add and what their purge
# leaves are compared with a root that has everything else they need. The
# operator's `apt-get install ./*.deb` then must succeed and add exactly the
# four: had it needed anything more, it would have pulled it in.
# Without Recommends, there and here: the agent's (libvirt-daemon-system, and
# QEMU through it) is on any hypervisor already and would triple the install;
# that the Recommends resolve from Debian too is checked by a dry run.
fields() { # fields FIELD...: the four packages' FIELDs, one relation a line, kvmgrid's own dropped
    for d in $debs; do
        for f in "$@"; do dpkg-deb -f "$R/${d#./}" "$f"; done
    done | tr ',' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' \
         | grep -v -e '^$' -e '^kvmgrid-' | sort -u | paste -s -d, - | sed 's/,/, /g'
}
deps=$(fields Pre-Depends Depends)
recs=$(fields Recommends)
kg_log "the packages' dependencies: $deps"
kg_log "the packages' recommendations: ${recs:-none}"
[ -n "$deps" ] || kg_fail "the packages declare no dependency at all (shlibs:Depends missing?)"
if [ -n "$recs" ]; then
    kg_fresh_step recommends apt_root --simulate satisfy "$recs" \
        || kg_fail "the packages' Recommends do not resolve from Debian's mirror (see recommends.log)"
fi
kg_fresh_step dependencies apt_root --no-install-recommends satisfy "$deps" \
    || kg_die "the packages' dependencies do not resolve from Debian's mirror (see dependencies.log)"
snapshot before
installed_set > "$KG_TMP/before.packages"
no_kvmgrid "before install, dependencies installed"

# As an operator would: apt-get install ./kvmgrid-*.deb (in the root's /tmp/dist;
# without Recommends, as above).
# shellcheck disable=SC2086
kg_fresh_step install in_root sh -c "cd / && apt-get -y -q -o Dpkg::Use-Pty=0 --no-install-recommends install $debs" \
    || kg_die "apt-get install of the packages failed (see install.log)"
installed_set > "$KG_TMP/installed.packages"
kg_assert_eq "apt-get install ./*.deb added exactly the four packages" \
    "$(printf '%s\n' $PKGS | sort)" "$(comm -13 "$KG_TMP/before.packages" "$KG_TMP/installed.packages")"
if [ -n "$(kg_fresh_root_pids)" ]; then
    kg_fail "installing started processes inside the root: $(kg_fresh_root_pids | tr '\n' ' ')"
fi

# The user and the directories, made by the packages.
pw=$(in_root getent passwd kvmgrid || true)
if [ -n "$pw" ]; then
    kg_pass "the kvmgrid user exists: $pw"
    uid=$(echo "$pw" | cut -d: -f3); shell=$(echo "$pw" | cut -d: -f7)
    if [ "$uid" -lt 1000 ]; then kg_pass "kvmgrid is a system user (uid $uid)"; else kg_fail "kvmgrid has uid $uid, not a system uid"; fi
    case "$shell" in
    /usr/sbin/nologin|/sbin/nologin|/bin/false|/usr/bin/false) kg_pass "kvmgrid cannot log in ($shell)" ;;
    *) kg_fail "kvmgrid has the login shell $shell" ;;
    esac
else
    kg_fail "no kvmgrid user after install"
fi
kg_assert_contains "the kvmgrid group exists" "$(in_root getent group kvmgrid || true)" "kvmgrid:"
for d in /etc/kvmgrid /usr/share/doc/kvmgrid-agent /usr/share/doc/kvmgrid-wall \
    /usr/share/doc/kvmgrid-load /usr/share/doc/kvmgrid-broker; do
    if [ -d "$R$d" ]; then kg_pass "$d made by the packages"; else kg_fail "$d missing after install"; fi
done
for b in /usr/sbin/kvmgrid-agent /usr/bin/kvmgrid-wall /usr/bin/kvmgrid-top /usr/bin/kvmgrid-load; do
    if [ -x "$R$b" ]; then kg_pass "$b installed"; else kg_fail "$b missing after install"; fi
done

# systemd-analyze verify, inside the root (its own systemd, the units where the
# packages put them; no running manager is needed). A unit that verify warns
# about fails too.
units=$(for p in $PKGS; do in_root dpkg -L "$p"; done \
    | grep -E '/systemd/(system|user)/[^/]+\.(service|socket|timer|path)$' | sort -u || true)
[ -n "$units" ] || kg_fail "the packages install no systemd unit"
for u in $units; do
    case "$u" in */systemd/user/*) scope=--user ;; *) scope=--system ;; esac
    st=0
    # a user manager's runtime directory, as a login session has it
    mkdir -p "$R/run/user/0"; chmod 700 "$R/run/user/0"
    out=$(in_root env XDG_RUNTIME_DIR=/run/user/0 systemd-analyze "$scope" verify "$u" 2>&1) || st=$?
    if [ "$st" -eq 0 ] && [ -z "$out" ]; then kg_pass "systemd-analyze $scope verify $u"
    else kg_fail "systemd-analyze $scope verify $u: status $st: $out"; fi
done
# Drop-ins the packages add to other units (the broker's for mosquitto.service):
# verify the unit they modify, with them applied.
for d in $(for p in $PKGS; do in_root dpkg -L "$p"; done \
    | grep -E '/systemd/system/[^/]+\.service\.d/[^/]+\.conf$' | sort -u || true); do
    u=$(basename "$(dirname "$d")" .d)
    st=0
    out=$(in_root systemd-analyze verify "$u" 2>&1) || st=$?
    if [ "$st" -eq 0 ] && [ -z "$out" ]; then kg_pass "systemd-analyze verify $u with $d"
    else kg_fail "systemd-analyze verify $u with $d: status $st: $out"; fi
done

# The manuals render: man kvmgrid-agent as the operator types it, and every page
# the packages ship, without a warning from groff other than line breaking and
# adjusting at this width (tables in 80 columns), which change no text.
pages=$(for p in $PKGS; do in_root dpkg -L "$p"; done | grep -E '^/usr/share/man/man[1-8]/[^/]+\.[1-8](\.gz)?$' | sort -u || true)
case "$pages" in *kvmgrid-agent.8*) ;; *) kg_fail "no kvmgrid-agent(8) page among: $pages" ;; esac
for pg in $pages; do
    n=$(basename "$pg" .gz); sec=${n##*.}; n=${n%.*}
    st=0
    out=$(in_root env MANWIDTH=80 MAN_KEEP_STDERR=1 man --warnings -P cat "$sec" "$n" 2>"$KG_TMP/man.all") || st=$?
    grep -v -e "can't break line" -e "cannot adjust line" "$KG_TMP/man.all" > "$KG_TMP/man.err" || true
    if [ "$st" -eq 0 ] && [ ! -s "$KG_TMP/man.err" ] && printf '%s' "$out" | grep -q "$n"; then
        kg_pass "man $sec $n renders ($(printf '%s\n' "$out" | wc -l) lines)"
    else
        kg_fail "man $sec $n: status $st, $(wc -l < "$KG_TMP/man.err") warning lines: $(head -n 5 "$KG_TMP/man.err")"
    fi
done

# The agent as its unit starts it (ExecStart, User=, Group=), by hand: libvirt's
# test driver instead of qemu:///system, the private broker on the host's
# loopback, and no host= anywhere, in a UTS namespace named as Debian's
# installer names a machine.
unit=$(echo "$units" | grep '/kvmgrid-agent\.service$' | head -n 1 || true)
[ -n "$unit" ] || kg_die "no kvmgrid-agent.service installed"
exec_start=$(sed -n 's/^ExecStart=[-@:+!]*//p' "$R$unit" | head -n 1)
user=$(sed -n 's/^User=//p' "$R$unit" | tail -n 1); group=$(sed -n 's/^Group=//p' "$R$unit" | tail -n 1)
kg_log "kvmgrid-agent.service: ExecStart=$exec_start User=$user Group=$group"
case "$exec_start" in /usr/sbin/kvmgrid-agent*) kg_pass "the unit starts /usr/sbin/kvmgrid-agent" ;;
*) kg_fail "the unit starts [$exec_start], not /usr/sbin/kvmgrid-agent" ;; esac
conf=$(printf '%s\n' "$exec_start" | sed -n 's/.*--config[ =]\([^ ]*\).*/\1/p')
if [ -n "$conf" ] && [ -f "$R$conf" ]; then
    if grep -Eq '^[[:space:]]*host[[:space:]]*=' "$R$conf"; then kg_fail "$conf sets host="
    else kg_pass "$conf sets no host"; fi
else
    kg_fail "the unit's config file [$conf] is not installed"
fi
# shellcheck disable=SC2086
kg_spawn agent env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$R" unshare --uts sh -c \
    'echo debian > /proc/sys/kernel/hostname && u=$1 && g=$2 && shift 2 && exec setpriv --reuid="$u" --regid="$g" --clear-groups "$@"' \
    sh "${user:-root}" "${group:-root}" $exec_start \
    --broker "tcp://127.0.0.1:$KG_PORT" --libvirt-uri test:///default --interval 1s
agent=$KG_LAST_PID
# json JSON EXPR: kg_json_get, "" when the payload is missing or not JSON
json() { kg_json_get "$1" "$2" 2>/dev/null || true; }
is_online() { [ "$(kg_retained_payload kvmgrid/debian/status)" = online ]; }
vm_has_cpu() { [ "$(json "$(kg_retained_payload kvmgrid/debian/vm/test)" "d.get('cpu_pct') is not None")" = True ]; }
online_or_gone() { is_online || ! kill -0 "$agent" 2>/dev/null; }
kg_wait_for 30 online_or_gone || true
kill -0 "$agent" 2>/dev/null || kg_die "the agent exited at once: $(tail -n 5 "$KG_TMP/agent.log")"
kg_wait_for 1 is_online || kg_fail "no retained 'online' on kvmgrid/debian/status within 30 s (see agent.log)"
kg_wait_for 15 vm_has_cpu || kg_fail "no CPU figure for the test driver's domain on kvmgrid/debian/vm/test"
kg_assert_eq "every host status is under kvmgrid/debian/ (not the machine's $(hostname))" "kvmgrid/debian/status" \
    "$(kg_retained_topics 'kvmgrid/+/status' | tr '\n' ' ' | sed 's/ $//')"
m=$(kg_retained_payload kvmgrid/debian/metrics)
kg_assert_eq "host metrics: libvirt reachable" True "$(json "$m" "d['libvirt_ok']")"
v=$(kg_retained_payload kvmgrid/debian/vm/test)
kg_assert_eq "the test driver's domain 'test' is running" running "$(json "$v" "d['state']")"
pids=$(kg_fresh_root_pids | tr '\n' ' ')
kg_assert_eq "the agent is the only process inside the root" "$agent " "$pids"
kg_assert_eq "the agent runs as the unit's user ${user:-root}" "$(in_root id -u "${user:-root}" || echo "no such user")" \
    "$(ps -o uid= -p "$agent" | tr -d ' ')"
kg_stop "$agent"
kg_assert_eq "the agent exits 0 on SIGTERM" 0 "$KG_EXIT_STATUS"
kg_assert_eq "status offline after SIGTERM" offline "$(kg_retained_payload kvmgrid/debian/status)"

# apt-get purge of the four: the root is as it was with only their dependencies.
kg_fresh_step purge apt_root purge $PKGS || kg_die "apt-get purge failed (see purge.log)"
rm -rf "$R/tmp/dist"
installed_set > "$KG_TMP/purged.packages"
kg_assert_eq "purge removed exactly the four packages" "" \
    "$(diff "$KG_TMP/before.packages" "$KG_TMP/purged.packages" || true)"
snapshot after
no_kvmgrid "after purge"
kg_assert_eq "after purge: passwd, group, shadow and gshadow as before install" "" \
    "$(diff "$KG_TMP/before.accounts" "$KG_TMP/after.accounts" || true)"
kg_assert_eq "after purge: the file list as before install (- before, + after)" "" \
    "$(diff -U0 "$KG_TMP/before.files" "$KG_TMP/after.files" | grep '^[-+][^-+]' || true)"
kg_assert_eq "after purge: every file in /etc as before install" "" \
    "$(diff -U0 "$KG_TMP/before.etc" "$KG_TMP/after.etc" | grep '^[-+][^-+]' || true)"
# dpkg's, debconf's and ucf's own records of the packages
left=$(cd "$R" && grep -rlis kvmgrid var/lib/dpkg/info var/lib/dpkg/statoverride var/lib/dpkg/diversions \
    var/cache/debconf var/lib/ucf var/lib/systemd 2>/dev/null || true)
kg_assert_eq "after purge: no kvmgrid in dpkg, debconf, ucf and systemd records" "" "$left"

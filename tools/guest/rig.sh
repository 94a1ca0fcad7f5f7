#!/bin/bash
# SPDX-License-Identifier: MIT
# kvmgrid's e2e rig: real QEMU guests under libvirtd's qemu:///system, started and
# torn down by PID and by name. It starts virtlogd and libvirtd itself when they are
# not running (as root, without systemd), boots tiny guests built by build-image.sh
# (direct kernel boot, an ext4 virtio disk, a virtio balloon with a stats period unless
# --balloon-period 0, a user-mode NIC that reaches the host's loopback broker as
# 10.0.2.2, optionally a tap NIC so that net.* statistics exist), and removes all of
# it again: domains destroyed and undefined, their files and qemu logs removed, the
# daemons it started stopped.
# KVM when the CPU has vmx/svm and /dev/kvm is usable, TCG otherwise.
#
# It is not a VM manager: every guest it knows of lives in one state directory, and
# "down" forgets nothing it started.
#
# Usage: rig.sh COMMAND [ARGS]    state directory: $KG_RIG_DIR (required)
#   up                          start virtlogd/libvirtd if missing, build the guest image
#                               (KG_GUEST_LOAD: static kvmgrid-load, else the placeholder;
#                               KG_GUEST_CACHE: image cache; KG_RIG_COLD=1: a libvirtd this
#                               rig starts begins from empty state directories, see below)
#   boot NAME --port PORT [--mem MIB] [--vcpus N] [--disk MIB] [--tap] [--prefix P]
#        [--args a,b,c] [--balloon-period S]
#                               define and start guest NAME; its kvmgrid-load connects to
#                               tcp://10.0.2.2:PORT (= 127.0.0.1:PORT on the host) as node NAME;
#                               the balloon's stats period is S seconds (default 2; 0: none,
#                               the guest's memory figures then stay at its boot-time report
#                               until a period is set live)
#   wait NAME REGEX [SECONDS]   wait until NAME's serial console matches REGEX (default 180 s)
#   console NAME                print the path of NAME's serial console log
#   taps NAME                   print the host tap devices of NAME, one per line
#   destroy NAME                destroy and undefine NAME, remove its files
#   down                        destroy every guest of this rig, stop the daemons it started,
#                               remove the state directory
#   gc                          destroy and undefine guests of rigs whose state directory is
#                               gone (a test killed before its teardown); "up" runs it too
#   env                         print the rig's settings (URI, VIRT, KERNEL, INITRD) as shell
#   virsh ARGS...               virsh on the rig's URI
# Environment: KG_RIG_URI (default qemu:///system), KG_RIG_VIRT (kvm|qemu, default: probe),
# KG_RIG_OWNER (at "up": the PID of the process the rig belongs to, e.g. a test's shell;
# once it is gone, the rig counts as abandoned as if its state directory were gone),
# KG_RIG_COLD (at "up": 1 = when this rig starts libvirtd, empty directories are
# bind-mounted over /var/lib/libvirt, /var/cache/libvirt and /run/libvirt/qemu in the
# daemon's private mount namespace, so that it starts as on a fresh machine: no QEMU
# capabilities cache, no domain state. They live in /run/kvmgrid-rig/libvirtd-PID as
# long as that libvirtd runs, whichever rig it was handed over to.)
# rig.env tells which libvirtd the rig uses: KG_RIG_LIBVIRTD_PID, and
# KG_RIG_LIBVIRTD_STATE = cold (started here from empty state, in KG_RIG_LIBVIRTD_DIRS:
# lib, cache, run-qemu), started (started here on the host's state), rig (started by
# another rig), other (no rig started it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
uri=${KG_RIG_URI:-qemu:///system}
: "${KG_RIG_DIR:?set KG_RIG_DIR to the rig state directory}"
state=$KG_RIG_DIR

log() { printf 'rig: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
vsh() { virsh -q -c "$uri" "$@"; }

# alive PID NAME: PID runs a program called NAME.
alive() { [ -n "$1" ] && [ -r "/proc/$1/comm" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }

# wait_until SECONDS CMD...: polls CMD every 0.2 s.
wait_until() {
    local deadline=$(($(date +%s) + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.2
    done
}

# stop_pid PID NAME: TERM, up to 20 s, then KILL; only if PID still runs NAME.
stop_pid() {
    local pid=$1 name=$2 i=0
    alive "$pid" "$name" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    while alive "$pid" "$name" && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
    if alive "$pid" "$name"; then
        log "$name ($pid) ignored SIGTERM; killing"
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

virt_type() {
    if [ -n "${KG_RIG_VIRT:-}" ]; then
        case "$KG_RIG_VIRT" in kvm|qemu) echo "$KG_RIG_VIRT"; return ;; esac
        die "KG_RIG_VIRT must be kvm or qemu, not '$KG_RIG_VIRT'"
    fi
    # /dev/kvm can exist and even create VMs without hardware virtualisation (nested
    # setups without vmx/svm): its guests then hang. Trust the CPU flags.
    if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then echo kvm; else echo qemu; fi
}

libvirtd_up() { virsh -c "$uri" uri >/dev/null 2>&1; }

# proc_start PID: the process's start time (clock ticks since boot), which tells a
# PID from a later process that reuses it; fails when PID does not run.
proc_start() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    # shellcheck disable=SC2086
    set -- $s
    echo "${20}"
}

# rig_dead DIR: the rig whose state is DIR was abandoned: DIR is gone, or the owner
# it recorded first thing at "up" (KG_RIG_OWNER, in DIR/owner) no longer runs. A test
# killed by SIGKILL (ctest on timeout) keeps its directory; the owner check lets the
# next rig clean up.
rig_dead() {
    local dir=$1 owner="" start=""
    [ -d "$dir" ] || return 0
    [ -f "$dir/owner" ] || return 1
    read -r owner start < "$dir/owner" || true
    [ -n "$owner" ] || return 1
    [ "$(proc_start "$owner" || true)" = "$start" ] && return 1
    return 0
}

# The daemons rigs started are listed in $reg ("name pid rig-state-dir" lines), so
# that a rig killed before its "down" leaves them to the next rig (adopted by its
# "up") and a rig never stops a libvirtd that another live rig's guests still use.
reg_dir=/run/kvmgrid-rig
reg=$reg_dir/daemons
reg_lock() {
    mkdir -p "$reg_dir"
    exec 8>"$reg_dir/lock"
    flock -w 60 8 || die "cannot lock $reg_dir/lock"
}
reg_unlock() { exec 8>&-; }
# Set by start_daemons, written to rig.env.
libvirtd_pid=""
libvirtd_state=other

# The registry also lists every rig that is up ("rig 0 DIR", from its "up" to its
# "down"), so that the rig that started the daemons hands them over to another rig
# using them even before that one has booted a guest (seen: a rig's "up" found
# another rig's libvirtd, which that rig's "down" then stopped under it).
#
# reg_adopt: daemons of dead rigs (rig_dead) become ours; entries of processes that
# no longer run, and dead rigs' "rig" lines, are dropped.
reg_adopt() {
    local name pid dir d
    # The empty-state directories of a libvirtd that no longer runs (stopped by a rig
    # without this cleanup, or crashed).
    for d in "$reg_dir"/libvirtd-*; do
        [ -d "$d" ] || continue
        if ! alive "${d##*/libvirtd-}" libvirtd; then
            rm -rf "$d"
            log "removed $d, the state of a libvirtd that no longer runs"
        fi
    done
    [ -f "$reg" ] || return 0
    while read -r name pid dir; do
        if [ "$name" = rig ]; then
            if [ "$dir" = "$state" ] || ! rig_dead "$dir"; then
                echo "$name $pid $dir"
            elif [ -f "$dir/owner" ]; then
                rm -rf "$dir"
                log "removed the state directory $dir of a rig whose owner is gone"
            fi
            continue
        fi
        alive "$pid" "$name" || continue
        if [ "$dir" != "$state" ] && rig_dead "$dir"; then
            log "adopting $name ($pid), left by the rig in $dir"
            dir=$state
        fi
        echo "$name $pid $dir"
    done < "$reg" > "$reg.new"
    mv "$reg.new" "$reg"
}

# other_rig: prints the state directory of another live rig with guests, if any.
other_rig() {
    local name desc dir
    for name in $(vsh list --all --name 2>/dev/null); do
        desc=$(vsh desc "$name" 2>/dev/null) || continue
        case "$desc" in "kvmgrid e2e guest (tools/guest/rig.sh, state "*")") ;; *) continue ;; esac
        dir=${desc#"kvmgrid e2e guest (tools/guest/rig.sh, state "}
        dir=${dir%")"}
        if [ "$dir" != "$state" ] && ! rig_dead "$dir"; then echo "$dir"; return 0; fi
    done
}

start_daemons() {
    if [ "$uri" != qemu:///system ]; then
        libvirtd_up || die "$uri does not answer"
        libvirtd_state=other
        return 0
    fi
    if libvirtd_up; then
        libvirtd_pid=$(cat /run/libvirtd.pid 2>/dev/null || true)
        if [ -n "$libvirtd_pid" ] && grep -q "^libvirtd $libvirtd_pid " "$reg" 2>/dev/null; then
            libvirtd_state=rig
        else
            libvirtd_state=other
        fi
        log "libvirtd ${libvirtd_pid:-(no pid file)} is already running ($libvirtd_state); using it (stopped only by the rig that started it, when no other rig is up)"
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "libvirtd is not running and starting it needs root"
    command -v libvirtd >/dev/null || die "libvirtd is missing (third_party/install.sh e2e)"
    local pid
    if ! alive "$(cat /run/virtlogd.pid 2>/dev/null || true)" virtlogd; then
        setsid virtlogd </dev/null >>"$state/virtlogd.log" 2>&1 8>&- &
        pid=$!
        echo "virtlogd $pid $state" >> "$reg"
        wait_until 20 test -S /run/libvirt/virtlogd-sock || die "virtlogd did not start (see $state/virtlogd.log)"
        log "started virtlogd ($pid)"
    fi
    # libvirtd gets its own qemu.conf, bind-mounted in a private mount namespace so
    # the host's file is untouched: QEMU runs as root without relabelling. With the
    # stock config QEMU runs as libvirt-qemu, and where /dev/kvm is root-only (no udev)
    # libvirt finds its cached capabilities "invalid" (KVM seen when probing, not
    # usable now) and re-probes QEMU on every domain start: ~50 s each, measured here.
    cat > "$state/qemu.conf" <<'EOF'
# kvmgrid e2e rig (tools/guest/rig.sh): private settings for the libvirtd it started
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
namespaces = [ ]
security_driver = "none"
EOF
    command -v unshare >/dev/null || die "unshare (util-linux) is missing"
    # KG_RIG_COLD=1: the daemon's state directories are empty ones, made by the shell
    # that becomes libvirtd (so they carry its PID) under $reg_dir rather than in this
    # rig's state directory, which goes at this rig's "down" even when the daemon is
    # handed over to another rig. The host's directories are not touched.
    local cold_root=""
    [ "${KG_RIG_COLD:-0}" = 1 ] && cold_root=$reg_dir
    setsid unshare -m --propagation private sh -c '
        mount --bind "$1" /etc/libvirt/qemu.conf || exit 1
        if [ -n "$2" ]; then
            d="$2/libvirtd-$$"
            mkdir -p "$d/lib" "$d/cache" "$d/run-qemu" /run/libvirt/qemu || exit 1
            mount --bind "$d/lib" /var/lib/libvirt || exit 1
            mount --bind "$d/cache" /var/cache/libvirt || exit 1
            mount --bind "$d/run-qemu" /run/libvirt/qemu || exit 1
        fi
        exec libvirtd' sh "$state/qemu.conf" "$cold_root" \
        </dev/null >>"$state/libvirtd.log" 2>&1 8>&- &
    pid=$!
    echo "libvirtd $pid $state" >> "$reg"
    wait_until 60 libvirtd_up || die "libvirtd did not answer on $uri within 60 s (see $state/libvirtd.log)"
    libvirtd_pid=$pid
    if [ -n "$cold_root" ]; then libvirtd_state=cold; else libvirtd_state=started; fi
    log "started libvirtd ($pid)$([ -z "$cold_root" ] || echo ", empty state in $cold_root/libvirtd-$pid")"
}

stop_daemons() {
    reg_lock
    if [ ! -f "$reg" ]; then reg_unlock; return 0; fi
    local name pid dir heir="" mine=0
    # Our daemons go to another live rig that is up, or that has guests (a rig of
    # before the "rig" lines).
    while read -r name pid dir; do
        if [ "$name" != rig ] && [ "$dir" = "$state" ]; then mine=1; fi
        if [ -z "$heir" ] && [ "$name" = rig ] && [ "$dir" != "$state" ] && ! rig_dead "$dir"; then heir=$dir; fi
    done < "$reg"
    if [ $mine -eq 0 ]; then heir=""; elif [ -z "$heir" ]; then heir=$(other_rig); fi
    # Sorted: libvirtd before virtlogd, whose client it is.
    sort "$reg" | while read -r name pid dir; do
        if [ "$name" = rig ]; then
            [ "$dir" = "$state" ] || echo "$name $pid $dir"
        elif [ "$dir" != "$state" ]; then
            echo "$name $pid $dir"
        elif [ -n "$heir" ] && alive "$pid" "$name"; then
            log "leaving $name ($pid) running for the rig in $heir"
            echo "$name $pid $heir"
        else
            stop_pid "$pid" "$name"
            [ "$name" != libvirtd ] || rm -rf "$reg_dir/libvirtd-$pid"
            log "stopped $name ($pid)"
        fi
    done > "$reg.new"
    mv "$reg.new" "$reg"
    [ -s "$reg" ] || rm -f "$reg"
    reg_unlock
}

cmd_up() {
    local owner="${KG_RIG_OWNER:-}" owner_start=""
    if [ -n "$owner" ]; then
        case "$owner" in *[!0-9]*) die "KG_RIG_OWNER must be a PID, not '$owner'" ;; esac
        owner_start=$(proc_start "$owner") || die "KG_RIG_OWNER $owner does not run"
    fi
    case "${KG_RIG_COLD:-0}" in 0|1) ;; *) die "KG_RIG_COLD must be 0 or 1, not '$KG_RIG_COLD'" ;; esac
    mkdir -p "$state/guests"
    chmod 755 "$state"
    [ -f "$state/rig.env" ] && { log "already up ($state)"; return 0; }
    if [ -n "$owner" ]; then echo "$owner $owner_start" > "$state/owner"; fi
    local t0 virt img
    t0=$(date +%s)
    reg_lock
    reg_adopt
    start_daemons
    grep -qxF "rig 0 $state" "$reg" 2>/dev/null || echo "rig 0 $state" >> "$reg"
    reg_unlock
    virt=$(virt_type)
    img=$("$here/build-image.sh") || die "guest image build failed"
    eval "$img"
    # The first domain-related call makes libvirtd probe QEMU's capabilities: do it now,
    # so that boot times measure boots.
    local t1
    t1=$(date +%s.%N)
    vsh capabilities >/dev/null || die "libvirt capabilities failed on $uri"
    log "libvirt capabilities in $(awk -v a="$(date +%s.%N)" -v b="$t1" 'BEGIN { printf "%.1f", a - b }') s"
    cmd_gc
    {
        printf 'KG_RIG_URI=%s\nKG_RIG_VIRT=%s\n' "$uri" "$virt"
        printf 'KG_GUEST_KERNEL=%s\nKG_GUEST_INITRD=%s\n' "$KG_GUEST_KERNEL" "$KG_GUEST_INITRD"
        printf 'KG_RIG_LIBVIRTD_PID=%s\nKG_RIG_LIBVIRTD_STATE=%s\n' "$libvirtd_pid" "$libvirtd_state"
        [ "$libvirtd_state" != cold ] || printf 'KG_RIG_LIBVIRTD_DIRS=%s\n' "$reg_dir/libvirtd-$libvirtd_pid"
    } > "$state/rig.env"
    log "up in $(($(date +%s) - t0)) s: $uri, domain type '$virt', image ${KG_GUEST_KEY}"
}

load_env() {
    [ -f "$state/rig.env" ] || die "rig is not up (run: rig.sh up)"
    # shellcheck disable=SC1091
    . "$state/rig.env"
    uri=$KG_RIG_URI
}

valid_name() {
    case "$1" in ''|*[!A-Za-z0-9_.-]*) die "guest name '$1' must be [A-Za-z0-9_.-]+" ;; esac
    [ ${#1} -le 48 ] || die "guest name '$1' is longer than 48 characters"
}

num() { case "$2" in ''|*[!0-9]*) die "$1 needs a number, not '$2'" ;; esac; }

xml_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e "s/'/\&apos;/g"; }

cmd_boot() {
    load_env
    local name=${1:-}; shift || true
    valid_name "$name"
    local port="" mem=160 vcpus=1 disk=256 tap=0 prefix="" args="" period=2
    while [ $# -gt 0 ]; do
        case "$1" in
        --port) port=${2:-}; num --port "$port"; shift 2 ;;
        --mem) mem=${2:-}; num --mem "$mem"; shift 2 ;;
        --vcpus) vcpus=${2:-}; num --vcpus "$vcpus"; shift 2 ;;
        --disk) disk=${2:-}; num --disk "$disk"; shift 2 ;;
        --tap) tap=1; shift ;;
        --prefix) prefix=${2:-}; shift 2 ;;
        --args) args=${2:-}; shift 2 ;;
        --balloon-period) period=${2:-}; num --balloon-period "$period"; shift 2 ;;
        *) die "boot: unknown argument '$1'" ;;
        esac
    done
    [ -n "$port" ] || die "boot $name: --port PORT (the broker's port on 127.0.0.1) is required"
    [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "--port $port is not a TCP port"
    [ "$mem" -ge 64 ] || die "--mem $mem: the guest needs at least 64 MiB"
    [ "$vcpus" -ge 1 ] && [ "$vcpus" -le 64 ] || die "--vcpus $vcpus: 1 to 64"
    [ "$disk" -ge 16 ] || die "--disk $disk: at least 16 MiB"
    case "$prefix$args" in *[[:space:]]*) die "--prefix and --args cannot contain spaces (use commas in --args)" ;; esac
    local g="$state/guests/$name"
    [ ! -e "$g" ] || die "guest $name exists in this rig already"
    if vsh dominfo "$name" >/dev/null 2>&1; then die "a domain named $name exists already (not ours)"; fi
    mkdir -p "$g"
    command -v mke2fs >/dev/null || die "mke2fs is missing (e2fsprogs)"
    truncate -s "${disk}M" "$g/disk.img"
    # Initialise inode tables and journal now, so an idle guest does not write in the
    # background (ext4lazyinit) and stays idle on the hypervisor's block counters.
    mke2fs -q -t ext4 -F -E lazy_itable_init=0,lazy_journal_init=0 -L kgdata "$g/disk.img"
    : > "$g/console.log"
    # clocksource=hpet: under TCG on a busy host the guest's TSC calibration can be
    # far off (seen: the guest clock hours ahead after a minute, RCU stall reports);
    # QEMU emulates the HPET from the host's clock.
    local cmdline="console=ttyS0 quiet panic=-1 clocksource=hpet kg.broker=tcp://10.0.2.2:$port kg.node=$name"
    [ -n "$prefix" ] && cmdline="$cmdline kg.prefix=$prefix"
    [ -n "$args" ] && cmdline="$cmdline kg.args=$args"
    # Without <stats period>, QEMU never asks the guest for balloon statistics: libvirt
    # keeps returning the one report the guest's driver sent at boot until a period is
    # set live (kvmgrid-agent's balloon_period, or virsh dommemstat --period).
    local statsxml="<stats period='$period'/>"
    [ "$period" -eq 0 ] && statsxml=""
    local tapxml=""
    if [ $tap -eq 1 ]; then
        # libvirt creates this tap, names it vnetN and deletes it with the domain. It
        # is connected to nothing: it exists so that the hypervisor reports net.*.
        tapxml="    <interface type='ethernet'><model type='virtio'/></interface>"
    fi
    cat > "$g/domain.xml" <<EOF
<domain type='$KG_RIG_VIRT'>
  <name>$name</name>
  <description>kvmgrid e2e guest (tools/guest/rig.sh, state $(echo "$state" | xml_escape))</description>
  <memory unit='MiB'>$mem</memory>
  <currentMemory unit='MiB'>$mem</currentMemory>
  <vcpu>$vcpus</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$KG_GUEST_KERNEL</kernel>
    <initrd>$KG_GUEST_INITRD</initrd>
    <cmdline>$(echo "$cmdline" | xml_escape)</cmdline>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$g/disk.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='user'><model type='virtio'/></interface>
$tapxml
    <serial type='file'><source path='$g/console.log'/><target port='0'/></serial>
    <console type='file'><source path='$g/console.log'/><target type='serial' port='0'/></console>
    <memballoon model='virtio'>$statsxml</memballoon>
  </devices>
</domain>
EOF
    vsh define "$g/domain.xml" >/dev/null || die "virsh define $name failed"
    date +%s.%N > "$g/started"
    if ! vsh start "$name" >/dev/null; then
        vsh undefine "$name" >/dev/null 2>&1 || true
        rm -rf "$g"
        die "virsh start $name failed"
    fi
    vsh domiflist "$name" | awk '$2 == "ethernet" { print $1 }' > "$g/taps"
    log "booted $name ($KG_RIG_VIRT, ${mem} MiB, $vcpus vCPU, ${disk} MiB disk$([ $tap -eq 1 ] && echo ", tap $(tr '\n' ' ' < "$g/taps")"), balloon stats period ${period} s)"
}

cmd_wait() {
    local name=${1:-} re=${2:-} secs=${3:-180}
    valid_name "$name"; [ -n "$re" ] || die "wait: REGEX needed"; num SECONDS "$secs"
    local g="$state/guests/$name"
    [ -d "$g" ] || die "no guest $name in this rig"
    if ! wait_until "$secs" grep -qE "$re" "$g/console.log"; then
        log "guest $name: no console line matching /$re/ within $secs s; console tail:"
        tail -n 20 "$g/console.log" >&2 || true
        return 1
    fi
    log "$name: /$re/ after $(awk -v a="$(date +%s.%N)" -v b="$(cat "$g/started")" 'BEGIN { printf "%.1f", a - b }') s"
}

# destroy_one NAME: 0 when NAME is no longer defined. When libvirtd cannot be
# reached the guest may live on: say so and fail (a later "gc" finds it by its
# description once this rig's directory is gone).
destroy_one() {
    local name=$1 g="$state/guests/$1" rc=0
    if ! libvirtd_up; then
        log "error: $uri does not answer: cannot destroy $name"
        return 1
    fi
    if vsh domstate "$name" >/dev/null 2>&1; then
        vsh destroy "$name" >/dev/null 2>&1 || true
        if ! vsh undefine "$name" >/dev/null; then
            log "error: undefine $name failed"
            rc=1
        fi
    fi
    rm -f "/var/log/libvirt/qemu/$name.log"
    rm -rf "$g"
    return $rc
}

cmd_destroy() {
    local name=${1:-}
    valid_name "$name"
    [ -d "$state/guests/$name" ] || die "no guest $name in this rig"
    load_env
    destroy_one "$name" || die "destroy $name failed"
    log "destroyed $name"
}

cmd_down() {
    [ -d "$state" ] || { log "nothing to tear down ($state absent)"; return 0; }
    local g rc=0
    if [ -f "$state/rig.env" ]; then load_env; fi
    for g in "$state"/guests/*; do
        [ -d "$g" ] || continue
        if destroy_one "$(basename "$g")"; then log "destroyed $(basename "$g")"; else rc=1; fi
    done
    stop_daemons
    rm -rf "$state"
    return $rc
}

# Guests carry their rig's state directory in their description; a guest whose rig
# is dead (directory gone, or its owner gone: rig_dead) was left by a rig that never
# ran "down". A dead owner's state directory (disk images, consoles) goes too.
cmd_gc() {
    local name desc dir
    for name in $(vsh list --all --name 2>/dev/null); do
        desc=$(vsh desc "$name" 2>/dev/null) || continue
        case "$desc" in "kvmgrid e2e guest (tools/guest/rig.sh, state "*")") ;; *) continue ;; esac
        dir=${desc#"kvmgrid e2e guest (tools/guest/rig.sh, state "}
        dir=${dir%")"}
        [ "$dir" != "$state" ] || continue
        rig_dead "$dir" || continue
        vsh destroy "$name" >/dev/null 2>&1 || true
        vsh undefine "$name" >/dev/null 2>&1 || true
        rm -f "/var/log/libvirt/qemu/$name.log"
        log "gc: removed $name, left behind by the rig in $dir"
        # Its other guests, if any, follow: their rig is now dead by directory.
        if [ -f "$dir/owner" ] && [ -d "$dir/guests" ]; then
            rm -rf "$dir"
            log "gc: removed the state directory $dir of a rig whose owner is gone"
        fi
    done
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
up) cmd_up ;;
boot) cmd_boot "$@" ;;
wait) cmd_wait "$@" ;;
console) valid_name "${1:-}"; echo "$state/guests/$1/console.log" ;;
taps) valid_name "${1:-}"; cat "$state/guests/$1/taps" ;;
destroy) cmd_destroy "$@" ;;
down) cmd_down ;;
gc) [ -f "$state/rig.env" ] && load_env; cmd_gc ;;
env) load_env; cat "$state/rig.env" ;;
virsh) vsh "$@" ;;
-h|--help|help) sed -n '3,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//' ;;
*) sed -n '/^# Usage:/,/^set -euo/{/^#/p}' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds kvmgrid's tiny e2e guest: a Debian cloud kernel plus an initramfs holding
# busybox-static, the virtio modules and a static kvmgrid-load, all from Debian
# packages (apt-get download + dpkg-deb -x; nothing is installed). The guest boots
# in seconds under QEMU TCG, loads virtio_pci/blk/net/balloon, sets 10.0.2.15/24
# via 10.0.2.2 (user-mode networking: the host's loopback is 10.0.2.2), mounts the
# ext4 disk /dev/vda on /data when there is one, and runs, from /data,
#     kvmgrid-load --listen --broker <kg.broker> --node <kg.node> [--prefix <kg.prefix>] [kg.args]
# restarting it if it exits. Kernel command line: kg.broker=tcp://10.0.2.2:PORT
# kg.node=NAME [kg.prefix=P] [kg.args=a,b,c (commas become spaces)].
# The serial console (ttyS0) shows "kg-guest: ..." progress lines.
#
# It is not a general image builder: no package manager, no udev, no DHCP.
#
# Usage: build-image.sh [--cache DIR] [--load BIN] [--scenarios DIR] [--kernel-pkg PKG] [--force]
#   --cache DIR       cache directory (default: $KG_GUEST_CACHE, else
#                     ${XDG_CACHE_HOME:-/var/cache}/kvmgrid/guest)
#   --load BIN        the kvmgrid-load to embed (default: $KG_GUEST_LOAD; without one,
#                     or with "placeholder", tools/guest/placeholder-load.c is built
#                     static and used). Static is best; a dynamic one gets its
#                     shared libraries copied along.
#   --scenarios DIR   scenario files (*.json) for "cmd":"scenario" commands, put where
#                     kvmgrid-load looks next to itself (default: loadgen/scenarios)
#   --kernel-pkg PKG  kernel package (default: what linux-image-cloud-amd64 depends on,
#                     i.e. bookworm's current cloud kernel; else the newest cached one)
#   --force           rebuild the initramfs even when the cached one matches
# Prints, on stdout, shell assignments to eval:
#   KG_GUEST_KERNEL=/abs/vmlinuz  KG_GUEST_INITRD=/abs/initrd.gz  KG_GUEST_KEY=<hash>
# The image is cached under DIR/img-<hash of all inputs>; a change to the kernel or
# busybox package, the load binary, the module list or this script gives a new one.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${KG_GUEST_CACHE:-${XDG_CACHE_HOME:-/var/cache}/kvmgrid/guest}
load=${KG_GUEST_LOAD:-}
kpkg=${KG_GUEST_KERNEL_PKG:-}
scenarios=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/loadgen/scenarios
force=0
# The drivers the guest needs; their dependencies are resolved from the modules' own
# .modinfo "depends=" entries (ext4 is built into Debian's cloud kernel).
modules="virtio_pci virtio_blk virtio_net virtio_balloon"

log() { printf 'build-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

while [ $# -gt 0 ]; do
    case "$1" in
    --cache) cache=${2:?--cache needs a directory}; shift 2 ;;
    --load) load=${2:?--load needs a path}; shift 2 ;;
    --scenarios) scenarios=${2:?--scenarios needs a directory}; shift 2
        [ -d "$scenarios" ] || die "--scenarios: $scenarios is not a directory" ;;
    --kernel-pkg) kpkg=${2:?--kernel-pkg needs a package name}; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '3,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
    esac
done

for tool in dpkg-deb cpio gzip sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is missing (third_party/install.sh e2e)"
done
mkdir -p "$cache/debs" || die "cannot create the cache directory $cache"
cache=$(cd "$cache" && pwd)
# One builder at a time per cache (parallel test runs share it).
if command -v flock >/dev/null; then
    exec 9>"$cache/.lock"
    flock -w 600 9 || die "another build-image.sh holds $cache/.lock"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/kg-guest-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# fetch PKG: prints the path of PKG's .deb in the cache, downloading it when absent.
fetch() {
    local pkg=$1 deb
    deb=$(ls -1 "$cache/debs/${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$deb" ]; then
        log "downloading $pkg"
        # apt-get download writes into the current directory; _apt cannot write in a
        # root-only cache, which only costs a warning (the download is then unsandboxed).
        (cd "$cache/debs" && apt-get download -q "$pkg" >&2 2>"$work/apt.err") ||
            { cat "$work/apt.err" >&2; die "apt-get download $pkg failed"; }
        deb=$(ls -1 "$cache/debs/${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1 || true)
        [ -n "$deb" ] || die "apt-get download $pkg left no .deb in $cache/debs"
    fi
    echo "$deb"
}

# The load generator: the given binary, or the placeholder built here.
load_kind=kvmgrid-load
[ "$load" = placeholder ] && load=""
if [ -z "$load" ]; then
    load_kind=placeholder
    command -v cc >/dev/null || die "no --load given and no C compiler to build the placeholder"
    load="$cache/placeholder-load"
    src="$here/placeholder-load.c"
    if [ ! -x "$load" ] || [ "$src" -nt "$load" ]; then
        log "building the static placeholder load generator"
        cc -std=c11 -O2 -static -Wall -Wextra -o "$load.tmp" "$src" || die "placeholder build failed"
        mv "$load.tmp" "$load"
    fi
fi
[ -f "$load" ] && [ -x "$load" ] || die "load generator '$load' is not an executable file"
load=$(cd "$(dirname "$load")" && pwd)/$(basename "$load")
if ! file_out=$(LC_ALL=C od -An -c -N 4 "$load" | tr -d ' \n') || [ "$file_out" != '177ELF' ]; then
    die "load generator '$load' is not an ELF executable"
fi
# A dynamically linked program gets its shared libraries (the host's, from Debian
# packages too) and loader copied into the initramfs at the same paths: a static
# build is smaller, but the image does not depend on one existing.
libs=""
command -v ldd >/dev/null || die "ldd (libc-bin) is missing"
if ldd "$load" >/dev/null 2>&1; then # "not a dynamic executable" fails
    libs=$(ldd "$load" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
    [ -n "$libs" ] || die "ldd found no libraries for the dynamically linked $load"
    if echo "$libs" | grep -q 'libasan\|libubsan'; then
        log "warning: $load is built with sanitizers; it will be slow and large in the guest"
    fi
fi

resolve_kernel() {
    apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n 1 || true
}
if [ -z "$kpkg" ]; then
    kpkg=$(resolve_kernel)
    if [ -z "$kpkg" ] && [ "$(id -u)" -eq 0 ] && ! ls "$cache/debs"/linux-image-*-cloud-amd64_*.deb >/dev/null 2>&1; then
        log "no package lists know linux-image-cloud-amd64: apt-get update"
        apt-get update -q >&2 || true
        kpkg=$(resolve_kernel)
    fi
    if [ -z "$kpkg" ]; then
        kpkg=$(ls -1 "$cache/debs"/linux-image-*-cloud-amd64_*.deb 2>/dev/null | sort -V | tail -n 1 |
            sed 's|.*/\(linux-image-[^_]*\)_.*|\1|' || true)
    fi
    [ -n "$kpkg" ] || die "cannot resolve linux-image-cloud-amd64 (apt-get update?) and none is cached"
fi
case "$kpkg" in linux-image-*) ;; *) die "--kernel-pkg '$kpkg' is not a linux-image-* package" ;; esac

kdeb=$(fetch "$kpkg")
bdeb=$(fetch busybox-static)

scen_files=""
if [ "$load_kind" = kvmgrid-load ] && [ -d "$scenarios" ]; then
    scen_files=$(ls -1 "$scenarios"/*.json 2>/dev/null | LC_ALL=C sort || true)
fi
key=$( { echo "modules=$modules kind=$load_kind"
        for f in $scen_files; do echo "scenario $(basename "$f")"; done
        sha256sum "$kdeb" "$bdeb" "$load" "${BASH_SOURCE[0]}" $libs $scen_files | cut -d' ' -f1; } |
    sha256sum | cut -c1-16)
img="$cache/img-$key"
# Images unused for a week go, and all but the 8 used last (a build tree's every
# kvmgrid-load makes a new one, ~20 MB; seen: 10 in an hour of development). Use
# refreshes an image's mtime; this one is about to be used or made.
find "$cache" -maxdepth 1 -name 'img-*' -type d -mtime +7 -exec rm -rf {} + 2>/dev/null || true
# Every command here succeeds on an empty cache (a first run): find lists nothing
# without failing, where "ls img-* | grep -v" fails under pipefail.
find "$cache" -maxdepth 1 -name 'img-*' -type d ! -path "$img" -printf '%T@ %p\n' |
    sort -rn | tail -n +8 | cut -d' ' -f2- | while read -r old; do
    rm -rf "$old"
done
if [ $force -eq 0 ] && [ -s "$img/vmlinuz" ] && [ -s "$img/initrd.gz" ]; then
    touch "$img"
    log "cached image $img"
    printf 'KG_GUEST_KERNEL=%s\nKG_GUEST_INITRD=%s\nKG_GUEST_KEY=%s\n' "$img/vmlinuz" "$img/initrd.gz" "$key"
    exit 0
fi

log "unpacking $(basename "$kdeb") and $(basename "$bdeb")"
dpkg-deb -x "$kdeb" "$work/k"
dpkg-deb -x "$bdeb" "$work/bb"
# A package without lib/modules (e.g. one that ships them under usr/lib/modules) must
# reach the message below: ls of a missing directory fails the pipeline under pipefail.
kver=$(ls -1 "$work/k/lib/modules" 2>/dev/null | head -n 1 || true)
[ -n "$kver" ] || die "no modules under lib/modules in $(basename "$kdeb")"
kmods="$work/k/lib/modules/$kver/kernel"

# modpath NAME: the .ko file of module NAME ('-' and '_' are the same in module names).
modpath() {
    local f
    f=$(find "$kmods" \( -name "$1.ko" -o -name "$(echo "$1" | tr _ -).ko" -o -name "$(echo "$1" | tr - _).ko" \) | head -n 1)
    [ -n "$f" ] || die "module $1 not found in $kver (compressed modules are not handled)"
    echo "$f"
}
# Depth-first: dependencies before the module, each once.
order=""
visit() {
    local m=$1 f deps d
    case " $order " in *" $m "*) return 0 ;; esac
    f=$(modpath "$m")
    # sed, not grep: a module without a depends= entry has no dependencies, where grep's
    # "no match" would end the script under pipefail.
    deps=$(tr '\0' '\n' < "$f" | LC_ALL=C sed -n 's/^depends=//p' | head -n 1 | tr , ' ')
    for d in $deps; do visit "$(echo "$d" | tr - _)"; done
    order="$order $m"
}
for m in $modules; do visit "$m"; done
log "kernel $kver, modules:$order"

root="$work/root"
mkdir -p "$root"/{bin,dev,proc,sys,data,tmp,etc,lib/modules}
cp "$work/bb/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
done
cp "$load" "$root/bin/kvmgrid-load"
echo "$load_kind" > "$root/etc/kg-load-kind"
# kvmgrid-load finds shipped scenarios in <its dir>/../share/kvmgrid/scenarios.
if [ -n "$scen_files" ]; then
    mkdir -p "$root/share/kvmgrid/scenarios"
    cp $scen_files "$root/share/kvmgrid/scenarios/"
fi
for l in $libs; do
    mkdir -p "$root$(dirname "$l")"
    cp -L "$l" "$root$l"
done
for m in $order; do cp "$(modpath "$m")" "$root/lib/modules/$m.ko"; done
echo "$order" | tr ' ' '\n' | sed '/^$/d' > "$root/lib/modules/load-order"
# The kernel opens /dev/console for init before anything is mounted.
if [ "$(id -u)" -eq 0 ]; then mknod -m 600 "$root/dev/console" c 5 1; fi

cat > "$root/init" <<'INIT'
#!/bin/sh
# kvmgrid e2e guest init (generated by tools/guest/build-image.sh)
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
exec </dev/console >/dev/console 2>&1
say() { echo "kg-guest: $* (t=$(cut -d' ' -f1 /proc/uptime)s)"; }
say "init"
for m in $(cat /lib/modules/load-order); do
    insmod "/lib/modules/$m.ko" || say "insmod $m failed"
done
broker="" node="" prefix="" args=""
for kv in $(cat /proc/cmdline); do
    case "$kv" in
    kg.broker=*) broker=${kv#kg.broker=} ;;
    kg.node=*) node=${kv#kg.node=} ;;
    kg.prefix=*) prefix=${kv#kg.prefix=} ;;
    kg.args=*) args=$(echo "${kv#kg.args=}" | tr , ' ') ;;
    esac
done
[ -n "$node" ] && hostname "$node"
ip link set lo up
# The first NIC carries the user-mode network; any other (a tap for statistics) is
# only brought up.
nic=""
i=0
while [ $i -lt 50 ]; do
    for n in $(ls /sys/class/net); do
        [ "$n" = lo ] && continue
        ip link set "$n" up
        [ -z "$nic" ] && nic=$n
    done
    [ -n "$nic" ] && break
    sleep 0.1; i=$((i + 1))
done
if [ -n "$nic" ]; then
    ip addr add 10.0.2.15/24 dev "$nic"
    ip route add default via 10.0.2.2
    say "network $nic 10.0.2.15/24 via 10.0.2.2"
else
    say "no network interface"
fi
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if [ -b /dev/vda ] && mount -t ext4 /dev/vda /data; then
    say "disk /dev/vda on /data"
else
    say "no ext4 disk on /dev/vda; /data is in RAM"
fi
cd /data
if [ -z "$broker" ] || [ -z "$node" ]; then
    say "kg.broker= and kg.node= are needed on the kernel command line; idle"
    while true; do sleep 3600; done
fi
set -- --listen --broker "$broker" --node "$node"
[ -n "$prefix" ] && set -- "$@" --prefix "$prefix"
if [ "$(cat /etc/kg-load-kind)" = kvmgrid-load ]; then
    # Disk loads write into /data, within three quarters of its free space.
    avail_kib=$(df -k /data | awk 'NR == 2 { print $4 }')
    set -- "$@" --disk-dir /data --max-disk-bytes $((avail_kib * 768))
fi
while true; do
    say "starting kvmgrid-load $* $args"
    # shellcheck disable=SC2086
    /bin/kvmgrid-load "$@" $args
    say "kvmgrid-load exited with status $?; restarting in 1 s"
    sleep 1
done
INIT
chmod 755 "$root/init"

out="$work/img"
mkdir -p "$out"
cp "$work/k/boot/vmlinuz-$kver" "$out/vmlinuz"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 --reproducible) |
    gzip -9n > "$out/initrd.gz"
printf 'kernel_pkg=%s\nkernel=%s\nbusybox_deb=%s\nload=%s (%s)\nlibs=%s\nscenarios=%s\nmodules=%s\n' \
    "$kpkg" "$kver" "$(basename "$bdeb")" "$load" "$load_kind" "$(echo $libs)" "$(echo $scen_files)" "$order" > "$out/inputs.txt"
rm -rf "$img"
mv "$out" "$img"
chmod 755 "$img"; chmod 644 "$img"/*
log "built $img (initramfs $(du -k "$img/initrd.gz" | cut -f1) KiB)"
printf 'KG_GUEST_KERNEL=%s\nKG_GUEST_INITRD=%s\nKG_GUEST_KEY=%s\n' "$img/vmlinuz" "$img/initrd.gz" "$key"

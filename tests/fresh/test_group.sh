#!/bin/sh
# SPDX-License-Identifier: MIT
# The test group's first run on a machine that has nothing: in a bare Debian 12
# root, `third_party/install.sh build run test` installs Debian's Node.js and npm
# (the machine CI runs on has NodeSource's instead), Node-RED from its lock into
# an empty .cache, mqtt2prometheus and Prometheus; a second run finds nothing to
# do; then the integrations' tests that depend on that group run inside the root
# against the real agent: the Node-RED flow and the Prometheus exporter.
set -eu
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/fresh/fresh_lib.sh"

kg_fresh_up
kg_fresh_source /src

for c in node npm prometheus; do
    if kg_fresh_chroot sh -c "command -v $c" >/dev/null 2>&1; then
        kg_die "the bare root already has $c: it is not bare"
    fi
done
[ ! -e "$KG_FRESH_ROOT/src/.cache" ] || kg_die "the source in the root already has a .cache"
kg_pass "the bare root has no node, npm or prometheus, and no .cache"

# npm fetches over HTTPS, apt over HTTP: a root trusts what this machine trusts
# (a TLS-inspecting proxy between it and the npm registry has its CA there).
ca=/etc/ssl/certs/ca-certificates.crt
[ -f "$ca" ] || kg_die "no CA bundle at $ca"
cp "$ca" "$KG_FRESH_ROOT/etc/kvmgrid-host-ca.crt"
in_root() { kg_fresh_chroot env NODE_EXTRA_CA_CERTS=/etc/kvmgrid-host-ca.crt "$@"; }

kg_fresh_step install in_root /src/third_party/install.sh build run test \
    || kg_die "third_party/install.sh build run test failed in the fresh root (see install.log)"
grep -q 'installing node-red from third_party/node-red/package-lock.json' "$KG_TMP/install.log" \
    || kg_fail "install.sh did not install Node-RED from its lock"
kg_fresh_chroot sh -c 'node --version; npm --version; dpkg-query -W nodejs npm' \
    > "$KG_TMP/versions.log" 2>&1 || kg_fail "node or npm missing after install (see versions.log)"
kg_log "in the root: $(tr '\n' ' ' < "$KG_TMP/versions.log")"
kg_fresh_step install-again in_root /src/third_party/install.sh build run test \
    || kg_die "a second install.sh build run test failed (see install-again.log)"
kg_assert_contains "the second install finds every package installed" \
    "$(cat "$KG_TMP/install-again.log")" "all packages for: build run test  are installed"
kg_assert_contains "the second install finds Node-RED installed" \
    "$(cat "$KG_TMP/install-again.log")" "node-red is installed as"

jobs=${KG_FRESH_JOBS:-2}
kg_fresh_step configure kg_fresh_chroot cmake -S /src -B /src/build \
    || kg_die "cmake configure failed in the fresh root (see configure.log)"
kg_fresh_step build kg_fresh_chroot cmake --build /src/build -j "$jobs" \
    --target kvmgrid-agent kg-wall-gridpub \
    || kg_die "the build failed in the fresh root (see build.log)"

for t in test_node_red test_prometheus; do
    kg_fresh_step "$t" kg_fresh_chroot env KG_SOURCE_DIR=/src KG_BUILD_DIR=/src/build \
        TMPDIR=/tmp sh "/src/tests/integration/docs/$t.sh" \
        && kg_pass "$t passed in the fresh root" \
        || kg_fail "$t failed in the fresh root (see $t.log)"
done

# The tests stop what they start by PID; a process may still be on its way out
# (a broker or an exporter between SIGTERM and exit): a few seconds' grace.
i=0
left=$(kg_fresh_root_pids)
while [ -n "$left" ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); left=$(kg_fresh_root_pids); done
[ -z "$left" ] || kg_fail "processes still run inside the root: $(echo "$left" | tr '\n' ' ')"

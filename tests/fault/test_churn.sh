#!/bin/sh
# SPDX-License-Identifier: MIT
# 500 lifecycle cycles under a running agent (1 s interval) through a private
# libvirtd (test driver, shared state): each cycle defines a domain (names from
# a small pool, so names come back with new UUIDs; some need escaping in
# topics), starts it, sometimes pauses and resumes it, stops it, sometimes
# renames it, and undefines it; every 50th cycle leaves a domain behind, and
# every 25th leaves a transient one running for a while. Afterwards the broker's
# retained VM topics equal libvirt's domains exactly (names, states, nothing
# left over), and the agent's RSS and open fds are flat: measured after each
# 100 cycles, the last figures are within 4 MiB and 2 fds of those after the
# first 100.
. "$KG_SOURCE_DIR/tests/integration/lib.sh"
. "$KG_SOURCE_DIR/tests/integration/agent/agent_lib.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}quarantine_size_mb=0"
CYCLES=${KG_CHURN_CYCLES:-500}

kg_broker_start
kg_libvirtd_start /default
kg_agent_start agent --libvirt-uri "$LV_URI" --interval 1s
kg_wait_for 20 grep -q 'publishing the current state' "$KG_TMP/agent.log" ||
    kg_die "the agent never connected"
kg_wait_for 20 kg_has_retained kvmgrid/hv1/vm/test || kg_die "the agent never published"

fds() { ls "/proc/$1/fd" | wc -l; }

# cycles FROM TO: the virsh commands of cycles FROM..TO-1, on stdout
cycles() {
    python3 - "$1" "$2" "$KG_TMP" <<'PY'
import sys, uuid
lo, hi, tmp = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
pool = ["web-01", "db #2", "cache+1", "100% busy", "vm-\u00fc", "it's", "a b c"]
def xml(name, u):
    path = "%s/d-%s.xml" % (tmp, u)
    esc = name.replace("&", "&amp;").replace("'", "&apos;").replace("<", "&lt;")
    with open(path, "w", encoding="utf-8") as f:
        f.write("<domain type='test'><name>%s</name><uuid>%s</uuid><memory>131072</memory>"
                "<vcpu>1</vcpu><os><type>hvm</type></os></domain>\n" % (esc, u))
    return path
def q(name):
    return "'" + name.replace("'", "'\\''") + "'"
for i in range(lo, hi):
    name = pool[i % len(pool)]
    print("define %s" % xml(name, uuid.uuid4()))
    print("start %s" % q(name))
    if i % 5 == 0:
        print("suspend %s" % q(name))
        print("resume %s" % q(name))
    print("destroy %s" % q(name))
    if i % 3 == 0:
        print("domrename %s %s" % (q(name), q(name + " renamed")))
        name += " renamed"
    print("undefine %s" % q(name))
    if i % 50 == 49:
        keep = "keep-%d" % i
        print("define %s" % xml(keep, uuid.uuid4()))
        if i % 100 == 49:
            print("start %s" % keep)
    if i % 25 == 12:
        print("create %s" % xml("transient-%d" % (i % 2), uuid.uuid4()))
    if i % 25 == 24:
        print("destroy transient-%d" % ((i - 12) % 2))
PY
}

i=0 base_rss="" base_fds="" series=""
while [ $i -lt "$CYCLES" ]; do
    cycles $i $((i + 100)) >"$KG_TMP/chunk.virsh"
    virsh -q -c "$LV_URI" <"$KG_TMP/chunk.virsh" >>"$KG_TMP/virsh.log" 2>&1
    i=$((i + 100))
    sleep 2 # two intervals: the agent catches up before it is measured
    r=$(kg_rss_kib "$AGENT_PID") f=$(fds "$AGENT_PID")
    series="$series $i:${r}k/${f}fd"
    if [ -z "$base_rss" ]; then base_rss=$r base_fds=$f; fi
    kill -0 "$AGENT_PID" 2>/dev/null || kg_die "the agent died after $i cycles"
done
kg_log "agent RSS/fds after each 100 cycles:$series"
errors=$(grep -ci 'error' "$KG_TMP/virsh.log")
kg_log "virsh: $(wc -l <"$KG_TMP/virsh.log") lines of output, $errors errors"
[ "$errors" -eq 0 ] || kg_fail "the churn itself failed: $(grep -i error "$KG_TMP/virsh.log" | head -3)"
[ "$(virsh -q -c "$LV_URI" list --all --name | grep -c keep-)" -eq $((CYCLES / 50)) ] ||
    kg_fail "libvirt does not hold the $((CYCLES / 50)) domains the churn left"

agreed() {
    python3 "$KG_SOURCE_DIR/tests/fault/check.py" --port "$KG_PORT" --uri "$LV_URI" --live hv1 \
        >"$KG_TMP/diff.txt" 2>&1
}
if kg_wait_for 30 agreed; then
    kg_pass "after $CYCLES cycles the retained VM topics equal libvirt's domains ($(virsh -q -c "$LV_URI" list --all --name | grep -c .) of them)"
else
    kg_fail "after $CYCLES cycles the broker and libvirt differ:"
    sed 's/^/    /' "$KG_TMP/diff.txt" >&2
fi
if [ "$r" -le $((base_rss + 4096)) ]; then
    kg_pass "agent RSS flat: ${base_rss} KiB after 100 cycles, ${r} KiB after $CYCLES"
else
    kg_fail "agent RSS grew: ${base_rss} KiB after 100 cycles, ${r} KiB after $CYCLES"
fi
if [ "$f" -le $((base_fds + 2)) ]; then
    kg_pass "agent fds flat: $base_fds after 100 cycles, $f after $CYCLES"
else
    kg_fail "agent fds grew: $base_fds after 100 cycles, $f after $CYCLES"
fi
kg_stop "$AGENT_PID"
kg_assert_eq "agent exits 0 after the churn" 0 "$KG_EXIT_STATUS"
